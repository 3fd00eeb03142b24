"""All configuration, read from the environment (twelve-factor).

Development needs no variables at all: SQLite, the in-memory channel layer, localhost.
Production is "DYNO set and CI unset" (Heroku sets DYNO on every dyno, Heroku CI sets CI);
there a missing SECRET_KEY or ALLOWED_HOSTS stops the process at once with one line.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_bool(name, default):
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in TRUE_WORDS


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        sys.exit(f"{name} must be an integer, got {value!r}")


def env_list(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = bool(os.environ.get("DYNO")) and not os.environ.get("CI")

# sys.exit with a string prints exactly that line to stderr and exits 1: no traceback
# to scroll through in `heroku logs`, and the release or web process fails at once.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        sys.exit("SECRET_KEY is not set: refusing to start in production without it")
    # A fresh key per development process: nothing signed survives a restart, and no
    # usable secret is ever committed.
    SECRET_KEY = get_random_secret_key()

DEBUG = env_bool("DEBUG", False)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    sys.exit("ALLOWED_HOSTS is not set: give your app's host names, e.g. myapp.herokuapp.com")
# Same-origin form posts pass Django's Origin check already; list other origins here.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",  # first, so `manage.py runserver` serves ASGI (websockets) in development
    "django.contrib.auth",  # AuthMiddlewareStack resolves scope["user"] through these
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "channels",
    "chat",
    "contract",
]

# Every middleware here runs natively async on the event loop. Django's built-ins do not
# (under ASGI, MiddlewareMixin runs each hook through sync_to_async on a thread), so the
# ASGI handler in chatsite/asgi.py loads their chatsite.middleware subclasses, which run
# the same hooks inline; they are listed here under Django's names, which the deploy
# checks look for. A sync-only middleware would pin a thread for the whole request, and
# at shutdown such threads wait forever for the stopped event loop. No session or auth
# middleware: no HTTP view uses them; websockets get sessions and users from
# AuthMiddlewareStack in asgi.py.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chatsite.static_files.AsyncWhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
APPEND_SLASH = False  # a redirect for /json/ would hide a 404; routes are exact

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# --- Database ---------------------------------------------------------------------------
# The connection budget: per_process_max = max(1, (limit - reserved) // processes).
# Daphne is one process per dyno (no workers), reserved = 2 (the release phase and one
# psql session), so on the 20-connection plans one dyno pools 18. Every thread in the
# process (the DB thread pool below, Django's sync threads, consumers) draws from this one
# pool, so the process can never hold more than DATABASE_POOL_SIZE connections.
# Running N web dynos? Set DATABASE_POOL_SIZE to (limit - 2) // N.
DATABASE_CONNECTION_LIMIT = env_int("DATABASE_CONNECTION_LIMIT", 20)
DATABASE_RESERVED_CONNECTIONS = 2
DATABASE_POOL_SIZE = env_int(
    "DATABASE_POOL_SIZE", max(1, DATABASE_CONNECTION_LIMIT - DATABASE_RESERVED_CONNECTIONS)
)

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    # conn_max_age=0: under ASGI a request may run on any thread, so Django's persistent
    # per-thread connections would leak; the pool keeps connections instead (and Django
    # refuses CONN_MAX_AGE > 0 together with a pool). Health checks make the pool test a
    # connection before handing it out, so ones cut by a database restart are dropped.
    default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    default_db["OPTIONS"] = {
        # A hanging server must fail fast: 1 s to connect, 1 s to wait for a pooled
        # connection, so a database route answers 503 well inside the contract's 2 s.
        "connect_timeout": 1,
        "pool": {
            # The release phase opens only the one connection it uses; the web process
            # fills the whole pool at boot (chatsite.db.open_database_pool).
            "min_size": 0,
            "max_size": DATABASE_POOL_SIZE,
            "timeout": 1,
            # Give up a failed reconnection quickly so the next request starts a fresh
            # attempt: recovery after an outage takes seconds, not the default backoff's
            # minutes.
            "reconnect_timeout": 1,
        },
    }
else:
    # Django's embedded default, so `manage.py runserver` and the tests need nothing.
    default_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
DATABASES = {"default": default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # channels-redis waits for messages with a 5 s BZPOPMIN; redis-py 8 gives every socket
    # a 5 s read timeout by default, so an idle consumer would race it and crash with
    # "Timeout reading". The read timeout must outlast the blocking pop.
    redis_host = {"address": REDIS_URL, "socket_timeout": 10}
    if REDIS_URL.startswith("rediss://"):
        # Heroku Key-Value Store serves TLS with a self-signed certificate: encrypt, but do
        # not verify. Only for rediss://; plain redis:// has no TLS to relax.
        redis_host["ssl_cert_reqs"] = None
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_host]},
        }
    }
else:
    # One process only: two dynos (or two Daphnes) would not see each other's messages.
    # chat.apps logs this at startup.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Chat -------------------------------------------------------------------------------
CHAT_MESSAGE_MAX_LENGTH = 1000
CHAT_HISTORY_LENGTH = 50

# --- HTTP and security ------------------------------------------------------------------
# Declared request bodies above this get 413 on every route (chatsite.http_edge).
REQUEST_BODY_LIMIT = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_LIMIT

# Heroku's router terminates TLS and sets X-Forwarded-Proto; it overwrites any value a
# client sent, so trusting it here is safe on Heroku.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # security.W021 asks for SECURE_HSTS_PRELOAD. Submitting a domain to the browsers'
    # preload list is a hard-to-undo decision for the domain's owner, not a starter's.
    "security.W021",
]

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Logs go to stdout, where Heroku's log router collects them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # psycopg_pool logs every checkout at INFO.
        "psycopg.pool": {"level": "WARNING"},
    },
}
