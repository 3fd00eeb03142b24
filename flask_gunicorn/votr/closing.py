"""The job: a poll closes at its closing time (a Celery task with that ETA).

It survives Heroku's SIGTERM to every process: the message leaves Redis only after
the job ran (acks_late; a warm shutdown puts it back), and a sweep every 30 s and at
each worker start closes what a killed worker lost (also without Redis: the worker's
beat runs on an in-memory broker). Closing is idempotent; votes never wait for it.
"""

import logging
import ssl
import tempfile
from datetime import UTC, timedelta
from pathlib import Path

from celery import Celery, Task, shared_task, signals
from flask import Flask, current_app
from sqlalchemy import update

from .config import WORKER_THREADS
from .models import Poll, db, utcnow

MAX_POLL_DURATION = timedelta(days=7)
# How late a poll closes at worst when its ETA message was lost with a killed worker.
SWEEP_SECONDS = 30.0

log = logging.getLogger(__name__)


def redis_tls_options(url: str) -> dict:
    # Heroku Key-Value Store serves rediss:// with a self-signed certificate, so
    # verification is off for TLS URLs only; redis:// stays plain.
    return {"ssl_cert_reqs": ssl.CERT_NONE} if url.startswith("rediss://") else {}


def close_due(poll_id: int | None = None) -> int:
    """Mark polls whose closing time has passed as closed; return how many."""
    now = utcnow()
    due = update(Poll).where(Poll.closed_at.is_(None), Poll.closes_at <= now).values(closed_at=now)
    closed = db.session.execute(due if poll_id is None else due.where(Poll.id == poll_id)).rowcount
    db.session.commit()
    return closed


@shared_task(bind=True, name="votr.close_poll", max_retries=None)
def close_poll(self, poll_id: int) -> None:
    if close_due(poll_id):
        log.info("poll %s closed", poll_id)
        return
    poll = db.session.get(Poll, poll_id)
    if poll is not None and poll.closed_at is None and poll.closes_at is not None:
        # Ran early (clocks of two dynos differ by a few ms): come back on time.
        raise self.retry(eta=poll.closes_at.replace(tzinfo=UTC))


@shared_task(name="votr.close_due_polls")
def close_due_polls() -> None:
    if closed := close_due():
        log.info("sweep closed %d poll(s)", closed)


@signals.worker_ready.connect
def sweep_at_start(sender=None, **_):
    close_due_polls.delay()


def schedule_closing(poll: Poll) -> None:
    """After the poll is committed: have the worker close it at poll.closes_at."""
    if poll.closes_at is not None and current_app.config["REDIS_URL"]:
        try:
            close_poll.apply_async((poll.id,), eta=poll.closes_at.replace(tzinfo=UTC))
        except Exception as exc:  # Redis down: the worker's sweep closes it instead.
            log.warning("poll %s: closing job not queued (%s); the sweep will close it", poll.id, exc)


def init_celery(app: Flask) -> Celery:
    # Flask's documented Celery pattern: every task runs inside an app context.
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config["REDIS_URL"]
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        # memory:// lets the worker start (and sweep) without Redis in development.
        broker_url=redis_url or "memory://",
        broker_use_ssl=(redis_url and redis_tls_options(redis_url)) or None,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=1,
        # visibility_timeout longer than any ETA: Redis must not re-deliver a message
        # that a live worker holds until the poll's closing time.
        broker_transport_options={
            "visibility_timeout": int((MAX_POLL_DURATION + timedelta(hours=1)).total_seconds()),
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
        },
        # A publish from a web request gives up within about a second when Redis is down.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        # Threads, not prefork: one process, so Heroku's SIGTERM reaches exactly the
        # process that restores unacked messages, and its pool is the budget's (config.py).
        worker_pool="threads",
        worker_concurrency=WORKER_THREADS,
        beat_schedule={"close-due-polls": {"task": "votr.close_due_polls", "schedule": SWEEP_SECONDS}},
        # The dyno's file system is ephemeral; beat only needs the file while it runs.
        beat_schedule_filename=str(Path(tempfile.gettempdir()) / "votr-celerybeat-schedule"),
        timezone="UTC",
        enable_utc=True,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
