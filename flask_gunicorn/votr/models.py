"""Tables: the contract's world and fortune, and votr's polls with their options."""

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import db


def utcnow() -> datetime:
    """Naive UTC: the same on Postgres and SQLite, which has no time zones."""
    return datetime.now(UTC).replace(tzinfo=None)


class World(db.Model):
    __tablename__ = "world"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    randomnumber: Mapped[int] = mapped_column(Integer, nullable=False)


class Fortune(db.Model):
    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(String(2048), nullable=False)


class Poll(db.Model):
    __tablename__ = "poll"
    # The sweep looks for open polls past their closing time.
    __table_args__ = (Index("ix_poll_open_closes_at", "closed_at", "closes_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    # When voting stops; None: the poll never closes.
    closes_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the closing job ran (the worker, or the in-process fallback).
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    options: Mapped[list["PollOption"]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )

    def is_closed(self, now: datetime | None = None) -> bool:
        # The clock decides, so a late or absent worker never lets a vote in
        # after the closing time.
        if self.closed_at is not None:
            return True
        return self.closes_at is not None and self.closes_at <= (now or utcnow())


class PollOption(db.Model):
    __tablename__ = "poll_option"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(String(100), nullable=False)
    votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    poll: Mapped[Poll] = relationship(back_populates="options")
