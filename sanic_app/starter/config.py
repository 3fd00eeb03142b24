"""All configuration, from the environment. Development defaults are safe; production
(DYNO set, CI unset) refuses to start without SECRET_KEY."""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

DEFAULT_CONNECTION_LIMIT = 20  # Heroku Postgres Essential-0/1 plans
# Left free by the web: one for `release:` (it runs beside the old web dyno), one for
# `heroku pg:psql`; add one per other process type using the database.
RESERVED_CONNECTIONS = 2
# The Host names answered when ALLOWED_HOSTS is unset, off Heroku. On Heroku (DYNO set, CI
# unset) any Host: its router only routes requests for the app's own domains, so the
# <name>-<12 hex>.herokuapp.com name and a custom domain work untyped (the reasoning of
# heroku/python-getting-started's settings.py). Elsewhere nothing filters Host for us.
# ("Domains define what web routes should be routed to an app":
# https://devcenter.heroku.com/articles/platform-api-reference#domain)
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class ConfigError(Exception):
    """The environment cannot run the app; the message is one line for the log."""


def env_flag(value: str | None) -> bool:
    """True only for an explicit yes: the article's bool(os.environ.get('DEBUG', ''))
    turned debug on for DEBUG=False."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def budget(connection_limit: int, web_concurrency: int, reserved: int = RESERVED_CONNECTIONS) -> tuple[int, int]:
    """(workers, pool size per worker) so that every pool plus `reserved` fits the plan:
    20 and 2 workers -> 9 each (asyncpg's default 10 each took all 20); 17 -> 1 each (19 in
    all); 33 -> clamped to 18 workers of 1, rather than exceeding the plan or crashing."""
    workers = max(1, min(web_concurrency, connection_limit - reserved))
    return workers, max(1, (connection_limit - reserved) // workers)


def host_allowed(host: str | None, allowed: tuple[str, ...]) -> bool:
    """Django's ALLOWED_HOSTS rule (Sanic has no Host check): a name matches itself, a
    leading dot the domain and its subdomains."""
    return bool(host) and any(host == name or (name.startswith(".") and f".{host}".endswith(name)) for name in allowed)


def positive_int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    raw = environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw[:20]!r}") from None
    if value < minimum or value > (maximum or value):
        raise ConfigError(f"{name} must be in {minimum}..{maximum or ''}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    port: int = 8000
    web_concurrency: int = 1
    debug: bool = False
    production: bool = False
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    database_url: str | None = None
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    allowed_hosts: tuple[str, ...] | None = LOCAL_HOSTS  # None: any Host

    workers = property(lambda self: budget(self.connection_limit, self.web_concurrency)[0])
    pool_max_size = property(lambda self: budget(self.connection_limit, self.web_concurrency)[1])

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        # Production as in heroku/python-getting-started: on a dyno, but not in Heroku CI.
        production = bool(environ.get("DYNO")) and not environ.get("CI")
        secret_key = environ.get("SECRET_KEY", "")
        hosts = tuple(name.strip().lower() for name in environ.get("ALLOWED_HOSTS", "").split(",") if name.strip())
        if not secret_key and production:
            raise ConfigError(
                "SECRET_KEY is not set: production (DYNO set, CI unset) needs one; "
                "run `heroku config:set SECRET_KEY=$(openssl rand -hex 32)`"
            )
        return cls(
            port=positive_int(environ, "PORT", 8000, maximum=65535),
            web_concurrency=positive_int(environ, "WEB_CONCURRENCY", 1),
            debug=env_flag(environ.get("DEBUG")),
            production=production,
            secret_key=secret_key or secrets.token_urlsafe(32),
            database_url=environ.get("DATABASE_URL") or None,
            connection_limit=positive_int(
                environ, "DATABASE_CONNECTION_LIMIT", DEFAULT_CONNECTION_LIMIT, minimum=RESERVED_CONNECTIONS + 1
            ),
            allowed_hosts=hosts or (None if production else LOCAL_HOSTS),
        )


# Sanic's own settings for a dyno behind Heroku's router; a SANIC_<NAME> environment
# variable overrides each (`heroku config:set SANIC_ACCESS_LOG=true`).
SANIC_DEFAULTS: dict[str, object] = {
    "KEEP_ALIVE_TIMEOUT": 95,  # the router keeps idle connections 90 s: closing first races it (H13/H18)
    "REQUEST_MAX_SIZE": 1024 * 1024,  # not 100 MB: 413 once a body passes 1 MiB, declared or chunked
    "GRACEFUL_SHUTDOWN_TIMEOUT": 20.0,  # Heroku SIGKILLs 30 s after SIGTERM
    "PROXIES_COUNT": 1,  # the router is the one trusted hop (request.remote_addr)
    "ACCESS_LOG": False,  # Sanic's default, kept explicit: the router logs every request (README, Operations)
    "AUTO_RELOAD": False,
}
