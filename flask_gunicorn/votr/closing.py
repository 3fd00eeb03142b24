"""The job: a poll closes at its closing time.

With REDIS_URL the web process publishes a Celery task whose ETA is the closing
time, and the `worker:` process runs it. Three things keep the job alive across
Heroku's SIGTERM-to-every-process (and worse):

1. acks_late: the message leaves Redis only after the job ran. A reserved ETA
   message sits in Redis' "unacked" set, and on the warm shutdown that SIGTERM
   starts, the worker puts it back on the queue for the next worker.
2. visibility_timeout longer than the longest poll, so Redis never hands a
   message a live worker still holds to a second worker.
3. A sweep: every SWEEP_SECONDS (Celery beat inside the worker) and at each worker
   start, every poll past its closing time is closed. That covers a worker killed
   without a warm shutdown (SIGKILL, a crashed dyno) or a flushed Redis.

Closing is idempotent (UPDATE ... WHERE closed_at IS NULL), so a message run twice,
or a sweep racing the ETA job, changes nothing.

Without REDIS_URL there is no broker to survive anything: the web process closes
the poll on a timer thread, so `make run` works with no services. Votes never
depend on the job: a poll whose time has passed refuses votes either way.
"""

import logging
import ssl
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from celery import Celery, Task, shared_task, signals
from flask import Flask, current_app
from flask.ctx import AppContext
from sqlalchemy import update

from .config import WORKER_CONCURRENCY
from .models import Poll, db, utcnow

# The longest a poll may stay open.
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
    statement = (
        update(Poll)
        .where(Poll.closed_at.is_(None), Poll.closes_at.is_not(None), Poll.closes_at <= now)
        .values(closed_at=now)
    )
    if poll_id is not None:
        statement = statement.where(Poll.id == poll_id)
    closed = db.session.execute(statement).rowcount
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
        raise self.retry(eta=as_utc(poll.closes_at))


@shared_task(name="votr.close_due_polls")
def close_due_polls() -> None:
    closed = close_due()
    if closed:
        log.info("sweep closed %d poll(s)", closed)


def schedule_closing(poll: Poll) -> None:
    """After the poll is committed: have it closed at poll.closes_at."""
    if poll.closes_at is None:
        return
    if current_app.config["REDIS_URL"]:
        try:
            close_poll.apply_async((poll.id,), eta=as_utc(poll.closes_at))
        except Exception as exc:  # Redis down: the worker's sweep closes it instead.
            log.warning("poll %s: closing job not queued (%s); the sweep will close it",
                        poll.id, exc)
        return
    delay = max(0.0, (poll.closes_at - utcnow()).total_seconds())
    timer = threading.Timer(delay, close_in_process, args=(current_app.app_context(), poll.id))
    timer.daemon = True
    timer.start()


def close_in_process(context: AppContext, poll_id: int) -> None:
    with context:
        close_due(poll_id)


def as_utc(naive_utc: datetime) -> datetime:
    return naive_utc.replace(tzinfo=UTC)


@signals.worker_ready.connect
def sweep_at_start(sender=None, **_):
    # Polls whose time passed while no worker ran close as soon as one starts.
    close_due_polls.delay()


def init_celery(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config["REDIS_URL"]
    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        # memory:// lets `celery worker` start without Redis in development (it
        # then only sweeps); the web process closes polls itself in that case.
        broker_url=redis_url or "memory://",
        broker_use_ssl=(redis_url and redis_tls_options(redis_url)) or None,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=1,
        broker_transport_options={
            # Longer than any ETA: Redis must not re-deliver a message that a
            # live worker is holding until the poll's closing time.
            "visibility_timeout": int((MAX_POLL_DURATION + timedelta(hours=1)).total_seconds()),
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
        },
        # A publish from a web request gives up fast when Redis is down.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0,
                                   "interval_step": 0.2, "interval_max": 0.2},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        # Threads, not prefork: one process, so the SIGTERM Heroku sends to every
        # process reaches exactly the process that restores unacked messages, and
        # the database connections are exactly WORKER_CONCURRENCY (config.py).
        worker_pool="threads",
        worker_concurrency=WORKER_CONCURRENCY,
        beat_schedule={
            "close-due-polls": {"task": "votr.close_due_polls", "schedule": SWEEP_SECONDS},
        },
        # The dyno's file system is ephemeral; beat only needs it while it runs.
        beat_schedule_filename=str(Path(tempfile.gettempdir()) / "votr-celerybeat-schedule"),
        timezone="UTC",
        enable_utc=True,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
