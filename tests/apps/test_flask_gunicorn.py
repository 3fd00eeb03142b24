"""flask_gunicorn only: the Celery worker from the Procfile's `worker:` line closes polls.

- a poll closes at its closing time, closed by the worker (not just refused by the clock);
- the worker gets SIGTERM (every process of its group, as Heroku does) while it holds the
  poll's ETA job; a fresh worker starts; the poll still closes on time, which the
  30-second sweep alone could not do;
- the same over rediss:// with a self-signed certificate (Heroku Key-Value Store).
"""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import pytest

from conftest import record
from harness.proxy import TlsProxy

pytestmark = pytest.mark.only_app("flask_gunicorn")

# The worker's safety-net sweep runs every 30 s; closing within this many seconds of
# the closing time proves the ETA job itself ran.
ON_TIME = 3.0


def wait_for_output(process, text: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while text not in process.output():
        if process.proc.poll() is not None:
            raise AssertionError(f"worker exited {process.proc.returncode}:\n{process.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} in the worker's output within {limit:.0f} s:\n{process.output()}")
        time.sleep(0.1)


def start_worker(launch, env=None):
    worker = launch(process_type="worker", release=False, wait=False, env=env)
    wait_for_output(worker, "ready.")
    return worker


def create_poll(web, closes_in: int) -> dict:
    response = httpx.post(
        web.url + "/api/polls",
        json={"question": "Does the job survive?", "options": ["yes", "no"], "closes_in_seconds": closes_in},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def wait_until_closed(web, poll: dict, limit: float) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        shown = httpx.get(f"{web.url}/api/polls/{poll['id']}", timeout=5).json()
        if shown["closed_at"]:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"poll {poll['id']} not closed by the worker within {limit:.0f} s: {shown}")


def lateness(shown: dict) -> float:
    closes_at = datetime.fromisoformat(shown["closes_at"])
    closed_at = datetime.fromisoformat(shown["closed_at"])
    return (closed_at - closes_at).total_seconds()


def vote(web, poll: dict) -> httpx.Response:
    option = poll["options"][0]["id"]
    return httpx.post(f"{web.url}/api/polls/{poll['id']}/votes", json={"option_id": option}, timeout=5)


def test_worker_closes_a_poll_at_its_closing_time(spec, launch):
    web = launch()
    start_worker(launch)
    poll = create_poll(web, closes_in=4)
    assert vote(web, poll).status_code == 201

    shown = wait_until_closed(web, poll, limit=4 + 10)
    assert shown["status"] == "closed"
    assert 0 <= lateness(shown) < ON_TIME, shown
    record(spec, "poll_closed_late_seconds", lateness(shown))

    refused = vote(web, poll)
    assert refused.status_code == 409, refused.text
    results = httpx.get(f"{web.url}/api/polls/{poll['id']}/results", timeout=5).json()
    assert results["total_votes"] == 1


def test_poll_still_closes_after_the_worker_is_sigtermed(spec, launch):
    web = launch()
    first = start_worker(launch)
    poll = create_poll(web, closes_in=12)
    # The first worker has reserved the ETA job: it holds it until the closing time.
    wait_for_output(first, "votr.close_poll[", limit=10)

    stop_seconds = first.stop()
    record(spec, "worker_shutdown_seconds", stop_seconds)
    assert httpx.get(f"{web.url}/api/polls/{poll['id']}", timeout=5).json()["closed_at"] is None

    start_worker(launch)
    shown = wait_until_closed(web, poll, limit=12 + 15)
    assert 0 <= lateness(shown) < ON_TIME, (
        f"closed {lateness(shown):.1f} s late: the ETA job was lost and only the sweep closed it", shown
    )
    record(spec, "poll_closed_late_after_worker_restart_seconds", lateness(shown))


def test_worker_over_tls_with_a_self_signed_certificate(spec, launch):
    tls = TlsProxy(6379)
    try:
        env = {"REDIS_URL": f"rediss://127.0.0.1:{tls.port}/{spec.redis_db}"}
        web = launch(env=env)
        start_worker(launch, env=env)
        poll = create_poll(web, closes_in=3)
        shown = wait_until_closed(web, poll, limit=3 + 10)
        assert 0 <= lateness(shown) < ON_TIME, shown
    finally:
        tls.close()
