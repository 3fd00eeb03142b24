"""The contract's world and fortune tables, seeded.

Revision ID: 0001_world_and_fortune
Revises:
Create Date: 2025-01-01
"""

import random

import sqlalchemy as sa
from alembic import op

revision = "0001_world_and_fortune"
down_revision = None
branch_labels = None
depends_on = None

WORLD_ROWS = 10000

FORTUNES = [
    "A deploy on Friday afternoon is a story you tell on Monday.",
    "The release phase runs once; the web process runs forever.",
    '<script>alert("escape me")</script>',
    "Twelve-factor apps keep config in the environment, not in the repository.",
    "Connection pools are like parking lots: the plan decides how many spaces there are.",
    "A SIGTERM is a request, a SIGKILL is a verdict.",
    "Les journaux vont sur la sortie standard, même en été.",
    "日本語のテキストもそのまま表示されるべきです。",
    "Keep-alive outlasts the router, or the router closes first.",
    "Never trust the leftmost X-Forwarded-For.",
    "Migrations belong to release, not to web.",
    'An ampersand & a quote " walk into a <table>.',
]


def upgrade():
    # Alembic records this revision in the same transaction (on Postgres), so a
    # second `release` finds nothing to do: nothing duplicated, nothing reset.
    world = op.create_table(
        "world",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("randomnumber", sa.Integer, nullable=False),
    )
    fortune = op.create_table(
        "fortune",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("message", sa.String(2048), nullable=False),
    )
    op.bulk_insert(
        world,
        [{"id": i, "randomnumber": random.randint(1, 10000)} for i in range(1, WORLD_ROWS + 1)],
    )
    op.bulk_insert(
        fortune, [{"id": i, "message": text} for i, text in enumerate(FORTUNES, start=1)]
    )


def downgrade():
    op.drop_table("fortune")
    op.drop_table("world")
