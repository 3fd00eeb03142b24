"""A fresh database per test, owned by a role with the plan's connection limit.

Heroku's small Postgres plans cap connections per role; the suite gives each app a role with
`CONNECTION LIMIT` = DATABASE_CONNECTION_LIMIT so going over budget fails for real, with
"too many connections for role", exactly as in article 000.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from dataclasses import astuple, dataclass
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONNECTION_LIMIT = 20


def admin_connect(dbname: str | None = None) -> psycopg.Connection:
    parts = urlsplit(ADMIN_URL)
    url = ADMIN_URL if dbname is None else parts._replace(path="/" + dbname).geturl()
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


class Database:
    def __init__(self, app_name: str, connection_limit: int = CONNECTION_LIMIT):
        # A role of its own per database: a role's CONNECTION LIMIT counts across databases,
        # and two instances of one app (a test's and the shared one) must not share a budget.
        self.name = self.role = f"starter_{app_name}_{uuid.uuid4().hex[:8]}"
        admin = urlsplit(ADMIN_URL)
        self.host, self.port = admin.hostname or "127.0.0.1", admin.port or 5432
        with admin_connect() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER CONNECTION LIMIT {}").format(
                    sql.Identifier(self.role), sql.Literal(connection_limit)
                )
            )
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.name), sql.Identifier(self.role)))

    def url_via(self, port: int, scheme: str = "postgres") -> str:
        """The app's URL, in Heroku's `postgres://` form unless told otherwise."""
        return f"{scheme}://{self.role}@127.0.0.1:{port}/{self.name}"

    @property
    def url(self) -> str:
        return self.url_via(self.port)

    def query(self, statement: str, *params) -> list[tuple]:
        with admin_connect(self.name) as conn:
            cursor = conn.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []

    def app_connections(self) -> int:
        """Connections the app's role holds to this database right now."""
        with admin_connect() as conn:
            return self._count(conn)

    def _count(self, conn: psycopg.Connection) -> int:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
            [self.name, self.role],
        ).fetchone()[0]

    def waiting_on_locks(self) -> int:
        with admin_connect() as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s AND wait_event_type = 'Lock'",
                [self.name, self.role],
            ).fetchone()[0]

    def table_statistics(self, table: str) -> TableStatistics:
        """Postgres's own counters for `table` and this database, as TechEmpower's verifier
        reads them (it uses pg_stat_statements, which needs a server restart to load; the
        per-table counters are always there)."""
        with admin_connect(self.name) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(
                "SELECT t.n_tup_upd, t.seq_scan + coalesce(t.idx_scan, 0), d.xact_commit, d.tup_updated"
                " FROM pg_stat_user_tables t, pg_stat_database d"
                " WHERE t.relname = %s AND d.datname = current_database()",
                [table],
            ).fetchone()
        return TableStatistics(*row)

    def sample_connections(self, interval: float = 0.02) -> ConnectionSampler:
        return ConnectionSampler(self, interval)

    def drop(self) -> None:
        with admin_connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.role)))


@dataclass(frozen=True)
class TableStatistics:
    """Cumulative counters; subtract two readings to count what happened between them.

    A backend reports its counters when it goes idle, at most once a second; counters still
    pending then are reported by a timer 10 s later (PGSTAT_MIN_INTERVAL and
    PGSTAT_IDLE_INTERVAL in PostgreSQL 15+), so a reading right after a burst may be short.
    """

    rows_updated: int  # pg_stat_user_tables.n_tup_upd: each UPDATE of a row counts, repeats too
    scans: int  # seq_scan + idx_scan: a SELECT or UPDATE of one row by id is one scan
    transactions: int  # pg_stat_database.xact_commit, the whole database's (readers' own included)
    database_rows_updated: int  # pg_stat_database.tup_updated

    def __sub__(self, other: TableStatistics) -> TableStatistics:
        return TableStatistics(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))


class ConnectionSampler:
    """Polls pg_stat_activity in the background and keeps the peaks.

    `peak` is the app's own; samples taken inside `while_others_connect()` (a release or a
    psql session using the app's role) count only towards `peak_with_others`.
    """

    def __init__(self, database: Database, interval: float):
        self.database, self.interval = database, interval
        self.peak = self.peak_with_others = 0
        self.samples_alone = 0
        self._others = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @contextlib.contextmanager
    def while_others_connect(self):
        self._others.set()
        try:
            yield
        finally:
            time.sleep(0.3)  # a closed session's backend lingers in pg_stat_activity for a moment
            self._others.clear()

    def _run(self) -> None:
        with admin_connect() as conn:
            while not self._stop.is_set():
                others = self._others.is_set()
                count = self.database._count(conn)
                self.peak_with_others = max(self.peak_with_others, count)
                if not others and not self._others.is_set():
                    self.peak = max(self.peak, count)
                    self.samples_alone += 1
                time.sleep(self.interval)


def drop_leftovers(prefix: str = "starter_") -> None:
    """Databases an interrupted earlier run left behind."""
    with admin_connect() as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"])]
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        roles = [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", [prefix + "%"])]
        for role in roles:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
