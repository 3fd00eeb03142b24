"""Plain-SQL migrations for the release phase.

Why it is safe next to a busy web process (the article's release failed because the
web workers' pools held all 20 connections):
- it uses one connection, which the pool budget leaves free (RESERVED_CONNECTIONS);
- a session advisory lock makes a second release wait for the first instead of racing;
- lock_timeout bounds every wait for a table lock, so DDL never queues behind the
  web's long queries while blocking every query behind itself; it fails with a message
  and the release can be retried.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import asyncpg

# Arbitrary, fixed: identifies "a migration run" among advisory locks on this database.
ADVISORY_LOCK_KEY = 7_270_000_003
CONNECT_TIMEOUT = 10.0
# A graceful close waits for the server to hang up; a network path that never delivers
# that must not keep the release phase (and so the deploy) waiting.
CLOSE_TIMEOUT = 5.0
LOCK_TIMEOUT = "10s"
# Waiting for another release to finish: longer than any of our migrations take.
ADVISORY_LOCK_WAIT = "120s"

MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration could not be applied; the message is one line."""


def discover(directory: Path) -> list[tuple[str, str, str]]:
    """(name, sql, sha256) of every migration file, in the order they apply."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        if not MIGRATION_NAME.match(path.name):
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        sql = path.read_text(encoding="utf-8")
        migrations.append((path.name, sql, hashlib.sha256(sql.encode("utf-8")).hexdigest()))
    return migrations


async def migrate(database_url: str, directory: Path) -> list[str]:
    """Apply pending migrations; returns the names applied (empty when up to date)."""
    migrations = discover(directory)
    try:
        conn = await asyncpg.connect(database_url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise MigrationError(f"cannot connect to the database: {exc or type(exc).__name__}") from exc
    try:
        return await _apply(conn, migrations)
    except asyncpg.LockNotAvailableError as exc:
        raise MigrationError(f"gave up waiting for a lock ({exc}); run the release again") from exc
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        try:
            await conn.close(timeout=CLOSE_TIMEOUT)
        except (OSError, TimeoutError, asyncpg.InterfaceError):
            pass  # asyncpg has aborted the connection instead; the work is committed


async def _apply(conn: asyncpg.Connection, migrations: list[tuple[str, str, str]]) -> list[str]:
    await conn.execute(f"SET lock_timeout = '{ADVISORY_LOCK_WAIT}'")
    await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
    try:
        await conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                sha256 text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        recorded = {row["name"]: row["sha256"] for row in await conn.fetch("SELECT name, sha256 FROM schema_migrations")}
        applied = []
        for name, sql, digest in migrations:
            if name in recorded:
                if recorded[name] != digest:
                    raise MigrationError(f"{name} changed after it was applied; add a new migration instead")
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)", name, digest)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
