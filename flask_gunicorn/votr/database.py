"""The SQLAlchemy handle, its pool sized from the connection budget, and failure bounds.

The contract wants a database that refuses or hangs to turn into a 503 within 2 s:
connect ≤ 1 s, pool checkout ≤ 1 s, health query ≤ 1 s.
"""

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import psycopg
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Seconds to wait for a new connection. psycopg rounds connect_timeout up to 2 s
# (libpq's minimum), so the 1 s bound is enforced around the attempt instead.
CONNECT_DEADLINE = 1.0
# Seconds a request waits for a pooled connection before it gets a 503.
POOL_CHECKOUT_TIMEOUT = 1
# Seconds the /health query may run.
HEALTH_QUERY_TIMEOUT_MS = 1000


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def engine_options(database_url: str | None, pool_size: int) -> dict:
    if not database_url or not database_url.startswith("postgresql"):
        # SQLite: the development default, one file, no server to wait for.
        return {"pool_pre_ping": True}
    return {
        # max_overflow 0: pool_size is the process's whole share of the plan's limit.
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": POOL_CHECKOUT_TIMEOUT,
        # A connection the database dropped (restart, failover, a cut) is tested
        # and replaced at checkout instead of failing the request that gets it.
        "pool_pre_ping": True,
        # Recycle before Heroku Postgres' idle limits or a NAT forget about it.
        "pool_recycle": 1800,
        "connect_args": {
            # Late connections still end: psycopg's own minimum is 2 s.
            "connect_timeout": 2,
            "application_name": "votr",
            # No server-side prepared statements. psycopg prepares a query on its
            # 5th run in a session and drops every prepared statement at each
            # ROLLBACK, which the pool issues whenever a request returns its
            # connection: /queries?queries=20 paid an extra PREPARE and a
            # DEALLOCATE ALL round trip per request and never reused a plan.
            "prepare_threshold": None,
        },
    }


def _close_if_connected(future: Future) -> None:
    if future.exception() is None:
        future.result().close()


def connect_within_deadline(dialect, _record, cargs, cparams):
    """Open a DBAPI connection, or raise psycopg's ConnectionTimeout after 1 s."""
    future: Future = Future()

    def attempt():
        try:
            future.set_result(dialect.connect(*cargs, **cparams))
        except BaseException as exc:  # handed to the waiting request thread
            future.set_exception(exc)

    threading.Thread(target=attempt, name="db-connect", daemon=True).start()
    try:
        return future.result(timeout=CONNECT_DEADLINE)
    except FutureTimeout:
        future.add_done_callback(_close_if_connected)
        raise psycopg.errors.ConnectionTimeout(
            f"no answer from the database within {CONNECT_DEADLINE:g} s"
        ) from None


def install_connect_deadline(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        event.listen(engine, "do_connect", connect_within_deadline)


def check_database(engine: Engine) -> None:
    """Raise if the database does not answer a trivial query within 1 s."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(f"SET LOCAL statement_timeout = {HEALTH_QUERY_TIMEOUT_MS}")
            )
        connection.execute(text("SELECT 1"))
