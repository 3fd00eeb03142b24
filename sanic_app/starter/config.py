"""All configuration, read from the environment in one place.

Development defaults are safe (no debug, a random secret per start); production is a Heroku
dyno (``DYNO`` set, ``CI`` unset) and refuses to start without ``SECRET_KEY``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})

# Heroku Postgres Essential-0/1 plans allow 20 connections per database.
DEFAULT_CONNECTION_LIMIT = 20
# Connections kept free for processes other than the web workers: one for the
# `release:` phase (migrations run while the old web dynos still serve traffic) and
# one for a `heroku pg:psql` session. Add one per extra process type that uses the
# database (a worker dyno, a clock).
RESERVED_CONNECTIONS = 2


class ConfigError(Exception):
    """The environment cannot run the app; the message is one line for the log."""


def env_flag(value: str | None) -> bool:
    """True only for an explicit yes: bool("False") is True, which is how the
    article's `bool(os.environ.get('DEBUG', ''))` turned debug on with DEBUG=False."""
    return (value or "").strip().lower() in TRUE_VALUES


def budget(connection_limit: int, web_concurrency: int, reserved: int = RESERVED_CONNECTIONS) -> tuple[int, int]:
    """(workers, pool size per worker) so that all pools plus `reserved` fit the plan.

        workers    = min(WEB_CONCURRENCY, limit - reserved)   (each needs one connection)
        per_worker = max(1, (limit - reserved) // workers)

    The article's dyno: limit 20, 2 workers -> 9 each, 18 in all, 2 left for the release
    phase and psql (asyncpg's default of 10 per worker took all 20). Heroku sets
    WEB_CONCURRENCY from the dyno's CPUs (17 on Performance-L, 33 on Performance-XL):
    at 17 it is 1 connection each, 17 + 2 = 19; above 18 workers a 20-connection plan
    cannot give every worker a connection, so the worker count is clamped to 18 and
    the app says so at boot, rather than crashing the deploy or exceeding the plan.
    """
    workers = max(1, min(web_concurrency, connection_limit - reserved))
    return workers, max(1, (connection_limit - reserved) // workers)


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw[:20]!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    port: int = 8000
    web_concurrency: int = 1
    debug: bool = False
    production: bool = False
    # Outside production a missing SECRET_KEY gets a random one per start (nothing
    # signed survives a restart in development, and no secret lives in the code).
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    database_url: str | None = None
    connection_limit: int = DEFAULT_CONNECTION_LIMIT

    @property
    def workers(self) -> int:
        return budget(self.connection_limit, self.web_concurrency)[0]

    @property
    def pool_max_size(self) -> int:
        return budget(self.connection_limit, self.web_concurrency)[1]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        # Production as in heroku/python-getting-started: on a dyno, but not in Heroku CI.
        production = bool(environ.get("DYNO")) and not environ.get("CI")
        secret_key = environ.get("SECRET_KEY", "")
        if not secret_key:
            if production:
                raise ConfigError(
                    "SECRET_KEY is not set: production (DYNO set, CI unset) needs a secret; "
                    "run `heroku config:set SECRET_KEY=$(openssl rand -hex 32)`"
                )
            secret_key = secrets.token_urlsafe(32)
        port = _positive_int(environ, "PORT", 8000)
        if port > 65535:
            raise ConfigError(f"PORT must be at most 65535, got {port}")
        connection_limit = _positive_int(environ, "DATABASE_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT)
        if connection_limit <= RESERVED_CONNECTIONS:
            raise ConfigError(
                f"DATABASE_CONNECTION_LIMIT must be above the {RESERVED_CONNECTIONS} reserved connections, got {connection_limit}"
            )
        return cls(
            port=port,
            web_concurrency=_positive_int(environ, "WEB_CONCURRENCY", 1),
            debug=env_flag(environ.get("DEBUG")),
            production=production,
            secret_key=secret_key,
            database_url=environ.get("DATABASE_URL") or None,
            connection_limit=connection_limit,
        )


# Sanic's own settings for a dyno behind Heroku's router. Sanic then applies any
# SANIC_<NAME> environment variable on top, so each of these can be overridden per app
# (`heroku config:set SANIC_ACCESS_LOG=true`) without a code change.
SANIC_DEFAULTS: dict[str, object] = {
    # The router keeps idle connections to the dyno open for up to 90 s; a server that
    # closes first races the router's next request on that connection (H18/H13 errors).
    "KEEP_ALIVE_TIMEOUT": 95,
    # Sanic's default is 100 MB; nothing here takes more than small JSON bodies. Sanic
    # answers 413 on a route that reads a body as soon as the declared (or, chunked,
    # the received) size passes 1 MiB, without reading the rest.
    "REQUEST_MAX_SIZE": 1024 * 1024,
    # Heroku sends SIGTERM and SIGKILLs 30 s later: drain in-flight requests for at
    # most 20 s, leaving time for the pools to close and the processes to exit.
    "GRACEFUL_SHUTDOWN_TIMEOUT": 20.0,
    # Exactly one trusted proxy (the router): the client is the rightmost
    # X-Forwarded-For entry, everything left of it is whatever the client claimed.
    "PROXIES_COUNT": 1,
    # Heroku's router already logs every request (path, status, bytes, service time);
    # Sanic's own line per request cost 40% of /json throughput (README, "Access log").
    "ACCESS_LOG": False,
    "AUTO_RELOAD": False,
}
