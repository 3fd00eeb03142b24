"""Postgres access: one psycopg_pool per worker process, opened on first use.

uWSGI loads the app in each worker (lazy-apps), and the pool is created the first time a
request needs it, so no socket is ever opened in the master and shared across fork().
"""

import random
import threading

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

WORLD_ROWS = 10_000


class DatabaseUnavailable(Exception):
    """The database is not configured, refuses, resets or does not answer in time."""


class Database:
    def __init__(self, config):
        self.config = config
        self._pool = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return self.config.database_url is not None

    def _connection_kwargs(self) -> dict:
        return {
            "connect_timeout": self.config.db_connect_timeout,
            "options": f"-c statement_timeout={self.config.db_statement_timeout_ms}",
            "application_name": "uwsgi_werkzeug",
        }

    def pool(self) -> ConnectionPool:
        if not self.configured:
            raise DatabaseUnavailable("DATABASE_URL is not set")
        with self._lock:
            if self._pool is None:
                # libpq reads postgres:// (Heroku's form) and postgresql:// alike.
                self._pool = ConnectionPool(
                    self.config.database_url,
                    kwargs=self._connection_kwargs(),
                    # Connections are made on demand, so a database that is down at
                    # boot costs nothing until a request asks for it.
                    min_size=0,
                    max_size=self.config.db_pool_max_size,
                    timeout=self.config.db_pool_timeout,
                    # A connection reset while idle in the pool is found and replaced at
                    # checkout instead of failing the request that picks it up.
                    check=ConnectionPool.check_connection,
                    # After a failed attempt psycopg_pool retries in the background with
                    # a backoff that doubles up to 5 minutes by default; while it waits,
                    # a recovered database stays unused. Give up after 1 s instead and
                    # let the next request try again.
                    reconnect_timeout=1.0,
                    # Idle connections go back to the plan after 5 minutes.
                    max_idle=300,
                    name="web",
                    open=True,
                )
            return self._pool

    def close(self):
        with self._lock:
            if self._pool is not None:
                self._pool.close(timeout=1)
                self._pool = None

    def run(self, work):
        """Call work(connection) in a transaction; any database failure becomes
        DatabaseUnavailable with a short reason."""
        try:
            with self.pool().connection() as connection:
                return work(connection)
        except PoolTimeout:
            raise DatabaseUnavailable(f"no connection within {self.config.db_pool_timeout:g} s") from None
        except psycopg.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DatabaseUnavailable(reason) from None

    # The queries the contract asks for.

    def ping(self):
        self.run(lambda connection: connection.execute("SELECT 1").fetchone())

    def random_worlds(self, count: int) -> list[dict]:
        def work(connection):
            with connection.cursor() as cursor:
                return _select_worlds(cursor, count)

        return self.run(work)

    def update_worlds(self, count: int) -> list[dict]:
        ids = _random_ids(count)
        # One new number per id, so an id drawn twice shows the value stored for it.
        numbers = {world_id: random.randint(1, WORLD_ROWS) for world_id in ids}  # noqa: S311

        def work(connection):
            with connection.cursor() as cursor:
                # Every requested id, duplicates included, is read and written by its own
                # statements (as TechEmpower's verifier counts them), in ascending id order
                # inside this one transaction: concurrent requests lock rows in the same
                # order and never deadlock.
                for world_id in sorted(ids):
                    cursor.execute("SELECT id, randomnumber FROM world WHERE id = %s", (world_id,))
                    cursor.fetchone()
                    cursor.execute("UPDATE world SET randomnumber = %s WHERE id = %s", (numbers[world_id], world_id))
            return [{"id": world_id, "randomNumber": numbers[world_id]} for world_id in ids]

        return self.run(work)

    def fortunes(self) -> list[tuple[int, str]]:
        return self.run(lambda connection: connection.execute("SELECT id, message FROM fortune").fetchall())


def _random_ids(count: int) -> list[int]:
    # Benchmark data, not secrets: the fast generator is the right one (hence noqa S311).
    return [random.randint(1, WORLD_ROWS) for _ in range(count)]  # noqa: S311


def _select_worlds(cursor, count: int) -> list[dict]:
    """`count` random rows, each fetched by its own query, as the contract asks."""
    rows = []
    for world_id in _random_ids(count):
        cursor.execute("SELECT id, randomnumber FROM world WHERE id = %s", (world_id,))
        row = cursor.fetchone()
        rows.append({"id": row[0], "randomNumber": row[1]})
    return rows
