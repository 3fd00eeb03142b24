"""All configuration, read from the environment (twelve-factor).

Development needs no variables: SQLite, the in-memory channel layer, localhost.
Production is "DYNO set and CI unset" (Heroku sets DYNO on every dyno, Heroku CI sets CI);
there a missing SECRET_KEY or ALLOWED_HOSTS stops the process at once with one line.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if not value.isdigit():
        if value:
            sys.exit(f"{name} must be a whole number, got {value!r}")
        return default
    return int(value)


def env_list(name, default):
    value = os.environ.get(name, "").strip()
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


PRODUCTION = bool(os.environ.get("DYNO")) and not os.environ.get("CI")

# sys.exit with a string prints that one line to stderr and exits 1: no traceback to
# scroll through in `heroku logs`, and the release or web process fails at once.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        sys.exit("SECRET_KEY is not set: refusing to start in production without it")
    SECRET_KEY = get_random_secret_key()  # per process: no usable secret is ever committed

DEBUG = env_bool("DEBUG", False)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    sys.exit("ALLOWED_HOSTS is not set: give your app's host names, e.g. myapp.herokuapp.com")
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

MIDDLEWARE = [
    "contract.proxy.RightmostForwardedProtoMiddleware",  # before SecurityMiddleware reads it
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# --- Database: the connection budget -----------------------------------------------------
# per_process_max = (limit - reserved) // processes, with reserved = 2 (the release phase
# and one psql session) and processes = 1: Daphne has no workers, so WEB_CONCURRENCY (2 to
# 17, set by the buildpack) changes nothing here. On the 20-connection plans one dyno pools
# 18. Running N web dynos? Set DATABASE_POOL_SIZE to (limit - 2) // N.
DATABASE_CONNECTION_LIMIT = env_int("DATABASE_CONNECTION_LIMIT", 20)
DATABASE_RESERVED_CONNECTIONS = 2
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", DATABASE_CONNECTION_LIMIT - DATABASE_RESERVED_CONNECTIONS)
if not 1 <= DATABASE_POOL_SIZE <= DATABASE_CONNECTION_LIMIT - DATABASE_RESERVED_CONNECTIONS:
    sys.exit(
        f"DATABASE_POOL_SIZE={DATABASE_POOL_SIZE} does not fit DATABASE_CONNECTION_LIMIT="
        f"{DATABASE_CONNECTION_LIMIT} with {DATABASE_RESERVED_CONNECTIONS} reserved for release and psql"
    )

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    # conn_max_age=0 with a pool: Django returns the connection to the pool at the end of
    # each request (it refuses CONN_MAX_AGE > 0 together with a pool).
    default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    default_db["OPTIONS"] = {
        # libpq's floor: a hung server fails a connect attempt after 2 s.
        "connect_timeout": 2,
        "pool": {
            # The release phase opens only the connection it uses; the web process grows
            # to max_size on demand.
            "min_size": 0,
            "max_size": DATABASE_POOL_SIZE,
            # How long a request waits for a connection: a dead database answers 503 after
            # 3 s (the contract allows 5 s), while 64 concurrent /updates?queries=20 queue
            # behind 18 busy connections for well under that (measured: README).
            "timeout": 3,
            # Give up a failed reconnection after 1 s, so the next request starts a fresh
            # attempt: recovery after an outage takes seconds, not psycopg's 5-minute backoff.
            "reconnect_timeout": 1,
        },
    }
else:
    default_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
DATABASES = {"default": default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # channels-redis waits for messages with a 5 s BZPOPMIN; redis-py 8's default 5 s socket
    # read timeout would race it ("Timeout reading"), so the read timeout outlasts the pop.
    redis_host = {"address": REDIS_URL, "socket_timeout": 10}
    if REDIS_URL.startswith("rediss://"):
        # Heroku Key-Value Store serves TLS with a self-signed certificate: encrypt, but do
        # not verify. Only for rediss://.
        redis_host["ssl_cert_reqs"] = None
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_host]}}
    }
else:
    # One process only (chat.apps warns at startup).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CHAT_MESSAGE_MAX_LENGTH = 1000
CHAT_HISTORY_LENGTH = 50

# --- HTTP and security ------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # bodies a view reads; Django's own 2.5 MB is more
# Heroku's router terminates TLS and appends to X-Forwarded-Proto; Django reads the
# leftmost value, so contract.proxy's middleware keeps only the rightmost (the router's).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
X_FRAME_OPTIONS = "DENY"
# security.W021 asks for SECURE_HSTS_PRELOAD: submitting a domain to the browsers' preload
# list is a hard-to-undo decision for the domain's owner, not a starter's.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Static files: collectstatic (the buildpack runs it) then WhiteNoise -----------------
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


def without_traceback(record):
    """A bad Host header is the client's mistake: one line, not Django's traceback."""
    record.exc_info = None
    return True


# Logs go to stdout, where Heroku's log router collects them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line": {"()": lambda: without_traceback}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "plain"},
        "one_line": {
            "class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "plain", "filters": ["one_line"],
        },
    },
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "django.security.DisallowedHost": {"handlers": ["one_line"], "propagate": False},
        "psycopg.pool": {"level": "WARNING"},  # it logs every checkout at INFO
    },
}
