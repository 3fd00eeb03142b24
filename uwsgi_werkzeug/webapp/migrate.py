"""Apply the SQL files in webapp/migrations/ in name order: `python -m webapp.migrate`.

Run by the Procfile's release: line, once per deploy, while the previous web dynos are
still serving. Each file runs once (recorded in schema_migrations) inside its own
transaction, and an advisory lock makes two concurrent releases take turns.
"""

import os
import sys
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any constant shared by every release of this app; "uwsgi_we" in ASCII.
ADVISORY_LOCK_ID = 0x75777367695F7765


def pending(connection) -> list[Path]:
    applied = {row[0] for row in connection.execute("SELECT name FROM schema_migrations")}
    return [path for path in sorted(MIGRATIONS_DIR.glob("*.sql")) if path.name not in applied]


def migrate(database_url: str) -> list[str]:
    """Apply what is missing; return the names applied this time."""
    applied_now = []
    # A generous connect timeout: the release phase may wait for the database to wake.
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_ID,))
        try:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for path in pending(connection):
                with connection.transaction():
                    connection.execute(path.read_text(encoding="utf-8"))
                    connection.execute(
                        "INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,)
                    )
                applied_now.append(path.name)
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_ID,))
    return applied_now


def main() -> int:
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        # The app runs without a database (database routes answer 503), so neither fails.
        print("migrate: DATABASE_URL is not set, nothing to migrate")
        return 0
    try:
        applied = migrate(database_url)
    except psycopg.Error as error:
        print(f"migrate: failed: {error}".strip(), file=sys.stderr)
        return 1
    print(f"migrate: applied {', '.join(applied)}" if applied else "migrate: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
