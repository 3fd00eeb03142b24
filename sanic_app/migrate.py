"""The release process: `release: python migrate.py` in the Procfile.

Applies migrations/NNNN_*.sql in name order, each in its own transaction, over ONE
connection, and records them in schema_migrations. Safe to repeat and safe to run while
the web dynos are serving: see starter/migrations.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from starter.migrations import MigrationError, migrate

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def main() -> int:
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("error: DATABASE_URL is not set; nothing to migrate", file=sys.stderr)
        return 1
    try:
        applied = asyncio.run(migrate(database_url, MIGRATIONS_DIR))
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"migrations: {len(applied)} applied" + (f" ({', '.join(applied)})" if applied else ", database up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
