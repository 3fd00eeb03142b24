"""All configuration, from the environment. Development needs nothing set; production
(``DYNO`` set and ``CI`` unset, as in heroku/python-getting-started) needs SECRET_KEY."""

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

# Heroku's smallest Postgres plans allow 20 connections.
DEFAULT_CONNECTION_LIMIT = 20
# The release phase (which may run while web is up) and one `heroku pg:psql`.
RELEASE_AND_PSQL_CONNECTIONS = 2
# The Celery worker's job threads share one connection (a closing job holds it for
# milliseconds). One leaves a connection per web process at WEB_CONCURRENCY 17 (the
# buildpack's value on Performance-L and -XL): 17 + 1 + 2 = 20; 2XL's 33 needs a bigger
# plan. With one thread, ETA jobs ran ~7 s late.
WORKER_THREADS = 2
WORKER_CONNECTIONS = 1
# The Host names answered when ALLOWED_HOSTS is unset, off Heroku. On Heroku (DYNO set, CI
# unset) any Host: its router only routes requests for the app's own domains, so the
# <name>-<12 hex>.herokuapp.com name and a custom domain work untyped (the reasoning of
# heroku/python-getting-started's settings.py). Elsewhere nothing filters Host for us.
# ("Domains define what web routes should be routed to an app":
# https://devcenter.heroku.com/articles/platform-api-reference#domain)
LOCAL_HOSTS = ["localhost", "127.0.0.1"]


class ConfigError(SystemExit):
    """A SystemExit, so gunicorn, flask and celery exit with this one line, no traceback."""

    def __init__(self, reason: str):
        super().__init__(f"votr configuration error: {reason}")


@dataclass(frozen=True)
class Settings:
    debug: bool
    secret_key: str
    database_url: str | None
    redis_url: str | None
    allowed_hosts: list[str] | None  # None: any Host
    web_concurrency: int
    connection_limit: int

    @property
    def connections_per_web_process(self) -> int:
        spare = self.connection_limit - WORKER_CONNECTIONS - RELEASE_AND_PSQL_CONNECTIONS
        return spare // self.web_concurrency


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


def sqlalchemy_url(database_url: str) -> str:
    """Heroku hands out postgres://, which SQLAlchemy 2 rejects; pick psycopg 3."""
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", database_url)


def load(environ: Mapping[str, str] = os.environ) -> Settings:
    production = bool(environ.get("DYNO")) and not environ.get("CI")
    secret_key = environ.get("SECRET_KEY", "").strip()
    if production and not secret_key:
        raise ConfigError(
            "SECRET_KEY is not set; production (DYNO set, CI unset) requires it "
            "(heroku config:set SECRET_KEY=$(openssl rand -hex 32))"
        )
    database_url = environ.get("DATABASE_URL", "").strip()
    hosts = [host.strip() for host in environ.get("ALLOWED_HOSTS", "").split(",") if host.strip()]
    settings = Settings(
        debug=environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"},
        secret_key=secret_key or secrets.token_hex(32),
        database_url=sqlalchemy_url(database_url) if database_url else None,
        redis_url=environ.get("REDIS_URL", "").strip() or None,
        allowed_hosts=hosts or (None if production else LOCAL_HOSTS),
        # Heroku sets WEB_CONCURRENCY from the dyno size; 2 matches its small dynos.
        web_concurrency=positive_int(environ, "WEB_CONCURRENCY", 2),
        connection_limit=positive_int(environ, "DATABASE_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT),
    )
    if settings.database_url and settings.connections_per_web_process < 1:
        raise ConfigError(
            f"WEB_CONCURRENCY={settings.web_concurrency} web processes need a database connection each, "
            f"but DATABASE_CONNECTION_LIMIT={settings.connection_limit} leaves fewer after the Celery "
            f"worker ({WORKER_CONNECTIONS}), release and psql ({RELEASE_AND_PSQL_CONNECTIONS})"
        )
    return settings
