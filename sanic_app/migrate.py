"""The release process: `release: python migrate.py` in the Procfile.

yoyo-migrations applies migrations/*.sql in name order, each in its own transaction,
records them in its _yoyo_migration table and holds its yoyo_lock row meanwhile, so a
second release waits instead of racing. It uses one connection, which the web's pool
budget leaves free (starter/config.py), so it runs beside a busy web dyno.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psycopg
from yoyo import get_backend, read_migrations
from yoyo.exceptions import LockTimeout

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def yoyo_url(database_url: str) -> str:
    """Heroku's postgres://... as yoyo's name for psycopg 3: postgresql+psycopg://...

    (yoyo maps postgres:// and postgresql:// to psycopg2, which this app does not use.)"""
    return "postgresql+psycopg://" + database_url.split("://", 1)[-1]


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; returns their ids (empty when up to date)."""
    backend = get_backend(yoyo_url(database_url))
    try:
        with backend.lock():
            pending = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return [migration.id for migration in pending]


if __name__ == "__main__":
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("error: DATABASE_URL is not set; nothing to migrate")
    try:
        applied = migrate(url)
    except (psycopg.Error, LockTimeout) as exc:
        # One line for the release log; LockTimeout names a release that died holding
        # yoyo's lock (`yoyo break-lock` clears it).
        sys.exit(f"error: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
    print(f"migrations: {', '.join(applied)} applied" if applied else "migrations: database up to date")
