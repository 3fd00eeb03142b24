"""All configuration, from the environment. Development needs no variables (SQLite, the
in-memory channel layer, localhost); production is DYNO set and CI unset, as on Heroku."""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name, "").strip().lower()
    return value in {"1", "true", "yes", "on"} if value else default


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if value and not value.isdigit():
        sys.exit(f"{name} must be a whole number, got {value!r}")
    return int(value) if value else default


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()] or default


PRODUCTION = bool(os.environ.get("DYNO")) and not os.environ.get("CI")

# sys.exit(text) prints one line to stderr and exits 1: no traceback in `heroku logs`.
if PRODUCTION and not os.environ.get("SECRET_KEY"):
    sys.exit("SECRET_KEY is not set: refusing to start in production without it")
SECRET_KEY = os.environ.get("SECRET_KEY") or get_random_secret_key()  # development: one per process

DEBUG = env_bool("DEBUG", False)

# Unset: any host on Heroku, since its router only routes requests for the app's own
# domains to it (new apps' <name>-<12 hex>.herokuapp.com and custom domains work untyped),
# as heroku/python-getting-started's settings.py reasons; elsewhere an explicit list.
# ("Domains define what web routes should be routed to an app":
# https://devcenter.heroku.com/articles/platform-api-reference#domain)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if PRODUCTION else ["localhost", "127.0.0.1"])
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

# Under Daphne (ASGI) Django runs a middleware's hooks in a thread when it is in async mode:
# Django's own four, async-capable through Django's middleware mixin, each cross to a thread per hook
# (8 crossings a request). WhiteNoise, last and sync-only, puts them in sync mode: the chain
# crosses to a thread once. Measured /json, Django's CPU per request: 1.25 ms this way,
# 1.8 ms with the async-capable ServeStatic in WhiteNoise's place (bench/results/django_channels-knobs.md).
MIDDLEWARE = [
    "chatsite.middleware.date_header",  # first: it stamps every answer, theirs included
    "contract.proxy.rightmost_forwarded_proto",  # before SecurityMiddleware reads it
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # last: see above; static files pass the rest
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
APPEND_SLASH = False  # a redirect for /json/ would hide a 404; routes are exact

TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

# --- Database: the connection budget -----------------------------------------------------
# pool = (limit - 2) // processes: 2 for the release phase and one psql session; processes
# is 1, as Daphne has no workers (WEB_CONCURRENCY changes nothing). 18 on 20-connection
# plans. With N web dynos set DATABASE_POOL_SIZE to (limit - 2) // N.
DATABASE_CONNECTION_LIMIT = env_int("DATABASE_CONNECTION_LIMIT", 20)
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", DATABASE_CONNECTION_LIMIT - 2)
if not 1 <= DATABASE_POOL_SIZE <= DATABASE_CONNECTION_LIMIT - 2:
    sys.exit(f"DATABASE_POOL_SIZE={DATABASE_POOL_SIZE} does not fit DATABASE_CONNECTION_LIMIT={DATABASE_CONNECTION_LIMIT} - 2")

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    # conn_max_age=0: each connection goes back to the pool after each request; health
    # checks make the pool test it before handing it out.
    default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    default_db["OPTIONS"] = {
        "connect_timeout": 2,  # libpq's floor: a hung server fails a connect attempt after 2 s
        "pool": {
            # Grown on demand: the release phase opens only the connection it uses.
            "min_size": 0,
            "max_size": DATABASE_POOL_SIZE,
            # How long a request waits for a connection: a dead database answers 503 after 3 s
            # (under the router's 30 s); a burst queues behind busy connections for less.
            "timeout": 3,
            "reconnect_timeout": 1,  # give up a failed reconnect so the next request tries afresh
        },
    }
else:
    default_db = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
DATABASES = {"default": default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Outlasts channels-redis' 5 s blocking pop (redis-py's own 5 s raced it: "Timeout reading").
    redis_host = {"address": REDIS_URL, "socket_timeout": 10}
    if REDIS_URL.startswith("rediss://"):
        # Heroku Key-Value Store: TLS with a self-signed certificate. Encrypt, do not verify.
        redis_host["ssl_cert_reqs"] = None
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_host]}}}
else:
    # One process only (chat.apps warns at startup).
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

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
# W021 wants SECURE_HSTS_PRELOAD: a hard-to-undo decision for the domain's owner, not a starter's.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# --- Static files: collectstatic (the buildpack runs it) then WhiteNoise -----------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

TIME_ZONE = "UTC"


def without_traceback(record):
    """A bad Host header is the client's mistake: one line, not Django's traceback."""
    record.exc_info = None
    return True


# Logs go to stdout, where Heroku's log router collects them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"without_traceback": {"()": lambda: without_traceback}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": "INFO"},
    "loggers": {
        "django": {"level": "INFO"},  # no handlers of its own: to the root's, once
        "django.security.DisallowedHost": {"filters": ["without_traceback"]},
        "psycopg.pool": {"level": "WARNING"},  # it logs every checkout at INFO
    },
}
