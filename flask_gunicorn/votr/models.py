"""Flask-SQLAlchemy with its pool options, and the tables."""

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# A dead or hung database is a 503 within the contract's 5 s: libpq gives up connecting
# after 2 s (its minimum), a checkout from a full pool after 2 s.
CONNECT_TIMEOUT = POOL_TIMEOUT = 2


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


def engine_options(database_url: str, pool_size: int) -> dict:
    if not database_url.startswith("postgresql"):  # SQLite, the development default
        return {"pool_pre_ping": True}
    return {
        # The process's whole share of the plan's limit; gunicorn runs a thread per connection.
        "pool_size": pool_size,
        "max_overflow": 0,
        "pool_timeout": POOL_TIMEOUT,
        # A connection the database dropped (restart, failover) is replaced at checkout.
        "pool_pre_ping": True,
        # Recycle before Heroku Postgres' idle limits or a NAT forget about it.
        "pool_recycle": 1800,
        "connect_args": {
            "connect_timeout": CONNECT_TIMEOUT,
            "application_name": "votr",
            # No server-side prepared statements: psycopg prepares on a query's 5th
            # run and the pool's ROLLBACK on return drops them, so /queries paid a
            # PREPARE and a DEALLOCATE ALL per request and never reused a plan.
            "prepare_threshold": None,
        },
    }


def utcnow() -> datetime:
    """Naive UTC: the same on Postgres and SQLite, which has no time zones."""
    return datetime.now(UTC).replace(tzinfo=None)


class World(db.Model):  # the contract's tables: world and fortune
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
    closes_at: Mapped[datetime | None] = mapped_column(nullable=True)  # None: never closes
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)  # when the closing job ran
    options: Mapped[list["PollOption"]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )

    def is_closed(self, now: datetime | None = None) -> bool:
        # The clock decides, so a late or absent worker never lets a vote in late.
        if self.closed_at is not None:
            return True
        return self.closes_at is not None and self.closes_at <= (now or utcnow())


class PollOption(db.Model):
    __tablename__ = "poll_option"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(String(100), nullable=False)
    votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    poll: Mapped[Poll] = relationship(back_populates="options")
