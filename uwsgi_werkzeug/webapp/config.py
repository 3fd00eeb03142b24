"""All configuration, read from the environment in one place.

Development defaults are safe (no debug, a throwaway secret); production is Heroku's
definition: ``DYNO`` set and ``CI`` unset. There a missing SECRET_KEY is a hard error.
"""

import os
import secrets
from dataclasses import dataclass

TRUE_VALUES = {"1", "true", "yes", "on"}

# Connections kept back from the web workers: one for the release phase (migrations run
# while the old web is still up) and one for a `heroku pg:psql` session.
RESERVED_CONNECTIONS = 2
# The Host names answered when ALLOWED_HOSTS is unset, off Heroku. On Heroku (DYNO set, CI
# unset) any Host: its router only routes requests for the app's own domains, so the
# <name>-<12 hex>.herokuapp.com name and a custom domain work untyped (the reasoning of
# heroku/python-getting-started's settings.py). Elsewhere nothing filters Host for us.
# ("Domains define what web routes should be routed to an app":
# https://devcenter.heroku.com/articles/platform-api-reference#domain)
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class ConfigError(Exception):
    """The environment cannot run this app; the message names the variable."""


@dataclass(frozen=True)
class Config:
    secret_key: str
    debug: bool
    production: bool
    database_url: str | None
    database_connection_limit: int
    web_concurrency: int
    serve_test_app: bool = False
    allowed_hosts: tuple[str, ...] | None = LOCAL_HOSTS  # None: any Host
    max_body_bytes: int = 1024 * 1024
    # Seconds. A dead database must be a 503 within 5 s: a connection attempt gets 2 s
    # (libpq's floor) and a request waits at most 3 s for a pooled connection, which also
    # covers waiting for a busy pool under a burst.
    db_connect_timeout: int = 2
    db_pool_timeout: float = 3.0
    # Server-side ceiling for any statement, well under uWSGI's 25 s harakiri so a
    # request blocked on a lock ends as a clean 503 instead of a killed worker, and well
    # above the few seconds a request may legitimately wait on a lock during a deploy.
    db_statement_timeout_ms: int = 15_000

    @property
    def db_pool_max_size(self) -> int:
        """Connections one worker may hold: the plan's limit split across workers."""
        return (self.database_connection_limit - RESERVED_CONNECTIONS) // self.web_concurrency


def _int_from_env(environ, name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _flag(environ, name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    return raw in TRUE_VALUES if raw else default


def is_production(environ) -> bool:
    return bool(environ.get("DYNO")) and not environ.get("CI")


def load_config(environ=None) -> Config:
    environ = os.environ if environ is None else environ
    production = is_production(environ)
    secret_key = environ.get("SECRET_KEY", "")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY is not set: production (DYNO set, CI unset) needs a secret key")
        # Development: a fresh random key each start, never a key written in the repo.
        secret_key = secrets.token_urlsafe(32)
    hosts = tuple(name.strip() for name in environ.get("ALLOWED_HOSTS", "").split(",") if name.strip())
    config = Config(
        secret_key=secret_key,
        debug=_flag(environ, "DEBUG", default=False),
        production=production,
        database_url=environ.get("DATABASE_URL") or None,
        database_connection_limit=_int_from_env(environ, "DATABASE_CONNECTION_LIMIT", 20),
        web_concurrency=_int_from_env(environ, "WEB_CONCURRENCY", 2),
        # Werkzeug's test app shows every request header (cookies included), sys.path and
        # versions: the article's demo, served in development or when explicitly asked for.
        serve_test_app=_flag(environ, "SERVE_TEST_APP", default=not production),
        allowed_hosts=hosts or (None if production else LOCAL_HOSTS),
    )
    if config.database_url and config.db_pool_max_size < 1:
        raise ConfigError(
            f"WEB_CONCURRENCY={config.web_concurrency} workers need at least one connection each plus "
            f"{RESERVED_CONNECTIONS} reserved; DATABASE_CONNECTION_LIMIT is {config.database_connection_limit}"
        )
    return config
