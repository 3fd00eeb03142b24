"""`release: python migrate.py`: yoyo applies migrations/*.sql in name order, each in a
transaction, over one connection the web's budget leaves free; its lock makes a second release wait."""

import os
import sys
from pathlib import Path

import psycopg
from yoyo import get_backend, read_migrations
from yoyo.exceptions import LockTimeout

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; returns their ids (empty when up to date)."""
    # yoyo maps postgres:// (Heroku's) and postgresql:// to psycopg2; this app has psycopg 3.
    backend = get_backend("postgresql+psycopg://" + database_url.split("://", 1)[-1])
    try:
        with backend.lock():
            pending = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return [migration.id for migration in pending]


if __name__ == "__main__":
    if not os.environ.get("DATABASE_URL"):
        sys.exit("error: DATABASE_URL is not set; nothing to migrate")
    try:
        applied = migrate(os.environ["DATABASE_URL"])
    except (psycopg.Error, LockTimeout) as exc:  # LockTimeout: `yoyo break-lock` after a killed release
        sys.exit(f"error: {type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}")
    print(f"migrations: {', '.join(applied)} applied" if applied else "migrations: database up to date")
