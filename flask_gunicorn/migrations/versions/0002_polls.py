"""votr's polls and their options.

Revision ID: 0002_polls
Revises: 0001_world_and_fortune
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_polls"
down_revision = "0001_world_and_fortune"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "poll",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("closes_at", sa.DateTime, nullable=True),
        sa.Column("closed_at", sa.DateTime, nullable=True),
    )
    # The sweep looks for open polls past their time.
    op.create_index("ix_poll_open_closes_at", "poll", ["closed_at", "closes_at"])
    op.create_table(
        "poll_option",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "poll_id", sa.Integer, sa.ForeignKey("poll.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.String(100), nullable=False),
        sa.Column("votes", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_poll_option_poll_id", "poll_option", ["poll_id"])


def downgrade():
    op.drop_table("poll_option")
    op.drop_table("poll")
