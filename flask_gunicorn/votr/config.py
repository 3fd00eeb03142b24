"""All configuration, read from the environment in one place.

Development needs nothing set: SQLite in the instance folder, jobs in-process, a
random SECRET_KEY per boot. Production (``DYNO`` set and ``CI`` unset, as in
heroku/python-getting-started) refuses to start without SECRET_KEY.
"""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

TRUE_WORDS = {"1", "true", "yes", "on"}

# Connections held outside the web processes: one for the release phase
# (`flask db upgrade` can run while the web is up) and one `heroku pg:psql` session.
RELEASE_AND_PSQL_CONNECTIONS = 2
# The Celery worker runs its jobs on this many threads, one connection each. One
# is plenty for closing polls, and it leaves a connection per web process even at
# WEB_CONCURRENCY=17 (Performance-L): 17 + 1 + 2 = 20, Heroku's smallest limit.
WORKER_CONCURRENCY = 1

# Heroku's smallest Postgres plans allow 20 connections.
DEFAULT_CONNECTION_LIMIT = 20
# Heroku sets WEB_CONCURRENCY itself; 2 matches its small dynos.
DEFAULT_WEB_CONCURRENCY = 2
# Host names production answers when TRUSTED_HOSTS is unset: the app's
# <name>.herokuapp.com (a leading dot matches subdomains) and loopback, for a
# probe from inside the dyno. Werkzeug cannot match a bracketed IPv6 literal.
DEFAULT_TRUSTED_HOSTS = [".herokuapp.com", "localhost", "127.0.0.1"]


class ConfigError(SystemExit):
    """A setting is missing or malformed: the process stops with a one-line reason.

    A SystemExit subclass, so gunicorn, flask and celery all exit non-zero with
    just the message rather than a traceback.
    """

    def __init__(self, reason: str):
        super().__init__(f"votr configuration error: {reason}")


@dataclass(frozen=True)
class Settings:
    production: bool
    debug: bool
    secret_key: str
    database_url: str | None
    redis_url: str | None
    web_concurrency: int
    connection_limit: int
    trusted_hosts: list[str] | None

    @property
    def connections_per_web_process(self) -> int:
        return connections_per_process(self.connection_limit, self.web_concurrency)


def connections_per_process(limit: int, processes: int) -> int:
    """The budget: web pools + the worker + release + psql stay within the plan's limit."""
    return (limit - WORKER_CONCURRENCY - RELEASE_AND_PSQL_CONNECTIONS) // processes


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_WORDS


def positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def sqlalchemy_url(database_url: str) -> str:
    """Heroku hands out postgres://, which SQLAlchemy 2 rejects; pick psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def load(environ: Mapping[str, str] = os.environ) -> Settings:
    production = bool(environ.get("DYNO")) and not environ.get("CI")
    secret_key = environ.get("SECRET_KEY", "").strip()
    if not secret_key:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set; production (DYNO set, CI unset) requires it "
                "(heroku config:set SECRET_KEY=$(openssl rand -hex 32))"
            )
        secret_key = secrets.token_hex(32)
    database_url = environ.get("DATABASE_URL", "").strip() or None
    hosts = [host.strip() for host in environ.get("TRUSTED_HOSTS", "").split(",") if host.strip()]
    settings = Settings(
        production=production,
        debug=is_true(environ.get("DEBUG")),
        secret_key=secret_key,
        database_url=sqlalchemy_url(database_url) if database_url else None,
        redis_url=environ.get("REDIS_URL", "").strip() or None,
        web_concurrency=positive_int(environ, "WEB_CONCURRENCY", DEFAULT_WEB_CONCURRENCY),
        connection_limit=positive_int(
            environ, "DATABASE_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT
        ),
        # Development answers any Host (Flask's default); production only its own.
        trusted_hosts=hosts or (DEFAULT_TRUSTED_HOSTS if production else None),
    )
    if settings.database_url and settings.connections_per_web_process < 1:
        raise ConfigError(
            f"WEB_CONCURRENCY={settings.web_concurrency} processes need a connection each, "
            f"but DATABASE_CONNECTION_LIMIT={settings.connection_limit} leaves "
            f"{settings.connection_limit - WORKER_CONCURRENCY - RELEASE_AND_PSQL_CONNECTIONS} "
            "after the worker, release and psql"
        )
    return settings
