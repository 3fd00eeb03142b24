"""One asyncpg pool per worker process, in `app.ctx.pool`, sized from the budget.

The pool is opened in each worker's `before_server_start` listener, never at import
and never in Sanic's main (manager) process, which serves no requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sanic import Request, Sanic
from sanic.exceptions import ServiceUnavailable
from sanic.log import logger as log

# A database that is down, refusing or hung must give a 503 within 5 s (the router gives
# up at 30 s): connecting gives up after 1 s, and a connection the outage broke is
# replaced (so reconnected, within that 1 s) when it is next acquired. A pool that is
# merely busy is not an outage: under 256 clients a request may queue several seconds
# for one of the worker's 9 connections and must still be served, so the wait for a
# pooled connection is bounded by the router's 30 s, not by the outage rule.
CONNECT_TIMEOUT = 1.0
ACQUIRE_TIMEOUT = 20.0
HEALTH_TIMEOUT = 1.0
# A statement may wait on a row lock for a few seconds (and a request in flight at
# SIGTERM must still finish): well above the checks, below the 20 s drain.
COMMAND_TIMEOUT = 12.0
POOL_CLOSE_TIMEOUT = 5.0
# Idle connections close after a minute so a quiet worker gives its share back.
MAX_INACTIVE_CONNECTION_LIFETIME = 60.0

# Errors that mean "the database cannot serve us right now", as opposed to a bug in a
# query (which stays a 500 and is logged).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # connect, checkout or statement timed out
    asyncpg.InterfaceError,  # connection closed under us, pool closing
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # server starting up or shutting down
    asyncpg.InsufficientResourcesError,  # too many connections for the role / server
    asyncpg.OperatorInterventionError,  # admin shutdown, query cancelled
    asyncpg.InvalidCatalogNameError,  # the database does not exist
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.UndefinedTableError,  # migrations have not run yet
)


class DatabaseUnavailable(ServiceUnavailable):
    quiet = True  # an outage is not a bug: no traceback per request

    def __init__(self, reason: str) -> None:
        super().__init__(f"database unavailable: {reason}")


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TimeoutError):
        text = text or "timed out"
    return (text or type(exc).__name__)[:200]


async def open_pool(app: Sanic) -> None:
    settings = app.ctx.settings
    app.ctx.pool = None
    if not settings.database_url:
        log.warning("DATABASE_URL is not set: database routes will answer 503")
        return
    # min_size=0: nothing connects here, so a database that is down at boot does not
    # stop the worker from binding PORT; connections open on first use and the pool
    # replaces broken ones. asyncpg takes postgres:// and postgresql:// alike. No
    # loop=: Sanic's listeners run on the worker's loop, which asyncpg uses.
    app.ctx.pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=0,
        max_size=settings.pool_max_size,
        max_inactive_connection_lifetime=MAX_INACTIVE_CONNECTION_LIFETIME,
        timeout=CONNECT_TIMEOUT,
        command_timeout=COMMAND_TIMEOUT,
    )
    log.info("database pool ready: up to %d connections in this worker", settings.pool_max_size)


async def close_pool(app: Sanic) -> None:
    pool, app.ctx.pool = getattr(app.ctx, "pool", None), None
    if pool is None:
        return
    try:
        # Graceful: waits for connections still checked out, then says goodbye to the
        # server; a server that never answers the goodbye must not hold the exit.
        await asyncio.wait_for(pool.close(), timeout=POOL_CLOSE_TIMEOUT)
    except UNAVAILABLE_ERRORS:
        pool.terminate()


@asynccontextmanager
async def connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, or DatabaseUnavailable (503) once connecting fails."""
    pool = request.app.ctx.pool
    if pool is None:
        raise DatabaseUnavailable("DATABASE_URL is not set")
    try:
        async with pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            yield conn
    except UNAVAILABLE_ERRORS as exc:
        raise DatabaseUnavailable(describe(exc)) from exc


async def check(request: Request) -> str:
    """The /health value: "ok", "not configured" or an error text, within 1 s."""
    if request.app.ctx.pool is None:
        return "not configured"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            async with connection(request) as conn:
                await conn.fetchval("SELECT 1")
    except TimeoutError:
        return "database unavailable: no answer within 1 s"
    except DatabaseUnavailable as exc:
        return str(exc)
    return "ok"
