"""Where database work runs, and how its failures reach the client.

Django's ORM is synchronous. Every query from an async view or consumer runs here, on a
thread pool as large as the connection pool, so each thread can hold a connection and a
slow query never blocks the event loop that serves websockets. channels'
database_sync_to_async returns the connection to the pool after each call, as Channels
requires for long-lived consumers.
"""

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, connections

from chatsite.http_errors import json_error

logger = logging.getLogger(__name__)

DB_THREADS = ThreadPoolExecutor(max_workers=settings.DATABASE_POOL_SIZE, thread_name_prefix="db")


def open_database_pool():
    """Start connecting the web process's whole pool at boot, in the background.

    psycopg_pool grows on demand one connection at a time, so the first burst after a
    deploy would queue its requests behind up to 18 sequential connects; with the event
    loop and 18 busy threads competing for the GIL, the last ones waited past the 1 s
    checkout timeout and got a 503 (seen in CI: 1 of 128 concurrent /updates). A full
    pool never waits to grow. The release phase does not import the ASGI app, so it keeps
    its single connection. Boot does not wait: with the database down the attempts give
    up after reconnect_timeout and requests connect on demand, as before.
    """
    pool = getattr(connections["default"], "pool", None)  # PostgreSQL with Django's pool
    if pool is not None:
        pool.open()
        pool.resize(min_size=pool.max_size)


def close_database_pools():
    """Close Django's psycopg pools: their connections end cleanly, their threads stop."""
    for connection in connections.all():
        if hasattr(connection, "close_pool"):  # PostgreSQL with Django's pool
            connection.close_pool()


class DatabaseUnavailable(Exception):
    """The database refused, reset, timed out or hung."""


def short_reason(exc):
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


async def run_db(func, *args, timeout=None):
    """Run func(*args) on a DB thread; DatabaseUnavailable on any database failure.

    timeout bounds the wait (the health check uses it); the thread itself finishes in the
    background, because a thread blocked in a socket read cannot be interrupted.
    """
    call = database_sync_to_async(func, thread_sensitive=False, executor=DB_THREADS)
    try:
        if timeout is None:
            return await call(*args)
        return await asyncio.wait_for(call(*args), timeout)
    except TimeoutError as exc:
        raise DatabaseUnavailable(f"no answer within {timeout} s") from exc
    except DatabaseError as exc:  # OperationalError, PoolTimeout (wrapped), InterfaceError
        logger.warning("database unavailable: %s", short_reason(exc))
        raise DatabaseUnavailable(short_reason(exc)) from exc


def database_route(view):
    """Answer 503 with a JSON message when the database is unavailable."""

    @functools.wraps(view)
    async def wrapper(request, *args, **kwargs):
        try:
            return await view(request, *args, **kwargs)
        except DatabaseUnavailable as exc:
            return json_error(503, f"database unavailable: {exc}")

    return wrapper
