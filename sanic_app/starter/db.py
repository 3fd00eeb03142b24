"""One asyncpg pool per worker process, sized from the connection budget.

The pool is opened in each worker's `before_server_start` listener, never at import
and never in Sanic's main (manager) process, which serves no requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sanic.exceptions import SanicException
from sanic.log import logger as log

# A database that hangs must turn into a 503 within 2 s: connecting gives up after 1 s,
# and a connection the outage broke is replaced (so reconnected, within that 1 s) when it
# is next acquired. A pool that is merely busy is not an outage: under 256 clients a
# request may queue several seconds for one of the worker's 9 connections, and must
# still be served, so the wait for a pooled connection is bounded by the router's 30 s
# request limit (with room to spare), not by the outage rule.
CONNECT_TIMEOUT = 1.0
ACQUIRE_TIMEOUT = 20.0
HEALTH_TIMEOUT = 1.0
# A statement may legitimately wait on a row or table lock for a few seconds (and a
# request in flight at SIGTERM must still finish), so the per-statement bound is well
# above the 1 s checks but below the 20 s graceful-shutdown drain.
COMMAND_TIMEOUT = 12.0
POOL_CLOSE_TIMEOUT = 5.0
# Idle connections are closed after a minute so a quiet worker gives its share back.
MAX_INACTIVE_CONNECTION_LIFETIME = 60.0

# Errors that mean "the database cannot serve us right now", as opposed to a bug in a
# query (which stays a 500 and is logged).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable
    TimeoutError,  # connect, checkout or statement timed out (asyncio.TimeoutError too)
    asyncpg.InterfaceError,  # connection closed under us, pool closing
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,  # server starting up or shutting down
    asyncpg.InsufficientResourcesError,  # too many connections for the role / server
    asyncpg.OperatorInterventionError,  # admin shutdown, query cancelled
    asyncpg.InvalidCatalogNameError,  # the database does not exist
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.UndefinedTableError,  # migrations have not run yet
)


class DatabaseUnavailable(SanicException):
    status_code = 503
    quiet = True

    def __init__(self, reason: str) -> None:
        super().__init__(f"database unavailable: {reason}")


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TimeoutError):
        text = text or "timed out"
    return (text or type(exc).__name__)[:200]


async def reset_session(conn: asyncpg.Connection) -> None:
    """Run when a connection goes back to the pool, instead of asyncpg's default
    reset query (`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`).

    The app keeps no session state (no SET, LISTEN, cursors or advisory locks), so the
    only thing to undo is a transaction left open by a cancelled request; skipping the
    query saves a round trip per request, which is time the connection is held while
    other requests wait for it. If you add session state, remove `reset=` to get the
    default back.
    """
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


class Database:
    def __init__(self, url: str | None, max_size: int) -> None:
        self.url = url
        self.max_size = max_size
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if not self.url:
            log.warning("DATABASE_URL is not set: database routes will answer 503")
            return
        # min_size=0: nothing connects here, so a database that is down at boot does
        # not stop the worker from binding PORT; connections open on first use and are
        # replaced by the pool when they break. asyncpg accepts postgres:// and
        # postgresql:// alike. No loop= argument: asyncpg uses the running loop.
        self.pool = await asyncpg.create_pool(
            self.url,
            min_size=0,
            max_size=self.max_size,
            max_inactive_connection_lifetime=MAX_INACTIVE_CONNECTION_LIFETIME,
            timeout=CONNECT_TIMEOUT,
            command_timeout=COMMAND_TIMEOUT,
            reset=reset_session,
        )
        log.info("database pool ready: up to %d connections in this worker", self.max_size)

    async def close(self) -> None:
        if self.pool is None:
            return
        pool, self.pool = self.pool, None
        try:
            # Graceful: waits for connections still checked out, then says goodbye to
            # the server; a server that never answers the goodbye must not hold us.
            await asyncio.wait_for(pool.close(), timeout=POOL_CLOSE_TIMEOUT)
        except UNAVAILABLE_ERRORS:
            pool.terminate()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, or DatabaseUnavailable (503) once connecting fails."""
        if self.pool is None:
            raise DatabaseUnavailable("DATABASE_URL is not set" if not self.url else "pool is not open")
        try:
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT) as conn:
                yield conn
        except UNAVAILABLE_ERRORS as exc:
            raise DatabaseUnavailable(describe(exc)) from exc

    async def check(self) -> str:
        """The /health value: "ok", "not configured" or an error text, within 1 s."""
        if not self.url:
            return "not configured"
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                async with self.connection() as conn:
                    await conn.fetchval("SELECT 1")
        except TimeoutError:
            return "database unavailable: no answer within 1 s"
        except DatabaseUnavailable as exc:
            return str(exc)
        return "ok"
