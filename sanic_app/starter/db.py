"""One asyncpg pool per worker process in `app.ctx.pool`, sized from the budget, opened
in each worker's listener (never in Sanic's manager) and closed after the drain."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sanic import Request, Sanic
from sanic.exceptions import ServiceUnavailable
from sanic.log import logger as log

# An outage (down, refusing or hung) is a 503 within 5 s: connecting gives up after 2.5 s
# (1 s failed under load at 17 workers on 2 cores), and a broken connection is replaced when
# next acquired. A busy pool is no outage: that wait gets 20 s, under the router's 30 s.
CONNECT_TIMEOUT, ACQUIRE_TIMEOUT, HEALTH_TIMEOUT = 2.5, 20.0, 1.0
COMMAND_TIMEOUT = 12.0  # a statement may wait on a row lock; below the 20 s drain
POOL_CLOSE_TIMEOUT, IDLE_CONNECTION_LIFETIME = 5.0, 60.0  # idle: a quiet worker gives its share back

# "The database cannot serve us now", unlike a bug in a query (a logged 500).
UNAVAILABLE_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.UndefinedTableError,  # migrations have not run yet
)


class DatabaseUnavailable(ServiceUnavailable):
    quiet = True  # an outage is not a bug: no traceback per request

    def __init__(self, exc: BaseException | str) -> None:
        reason = exc if isinstance(exc, str) else (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        super().__init__(f"database unavailable: {reason[:200] or 'timed out'}")


async def open_pool(app: Sanic) -> None:
    settings = app.ctx.settings
    app.ctx.pool = None
    if not settings.database_url:
        log.warning("DATABASE_URL is not set: database routes will answer 503")
        return
    # min_size=0: a database down at boot does not stop the worker from binding PORT.
    # asyncpg takes postgres:// and postgresql:// alike, and uses the running loop.
    app.ctx.pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=0,
        max_size=settings.pool_max_size,
        max_inactive_connection_lifetime=IDLE_CONNECTION_LIFETIME,
        timeout=CONNECT_TIMEOUT,
        command_timeout=COMMAND_TIMEOUT,
    )
    log.info("database pool ready: up to %d connections in this worker", settings.pool_max_size)


async def close_pool(app: Sanic) -> None:
    pool, app.ctx.pool = getattr(app.ctx, "pool", None), None
    if pool is not None:
        try:  # waits for checked-out connections; a server that never answers must not hold us
            await asyncio.wait_for(pool.close(), timeout=POOL_CLOSE_TIMEOUT)
        except UNAVAILABLE_ERRORS:
            pool.terminate()


@asynccontextmanager
async def connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, or DatabaseUnavailable (503) once connecting fails."""
    if request.app.ctx.pool is None:
        raise DatabaseUnavailable("DATABASE_URL is not set")
    try:
        async with request.app.ctx.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
            yield conn
    except UNAVAILABLE_ERRORS as exc:
        raise DatabaseUnavailable(exc) from exc


async def check(request: Request) -> str:
    """The /health value: "ok", "not configured" or an error text, within 1 s."""
    if request.app.ctx.pool is None:
        return "not configured"
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT), connection(request) as conn:
            await conn.fetchval("SELECT 1")
    except TimeoutError:
        return "database unavailable: no answer within 1 s"
    except DatabaseUnavailable as exc:
        return str(exc)
    return "ok"
