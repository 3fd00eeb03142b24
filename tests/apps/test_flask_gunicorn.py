"""flask_gunicorn only: the Celery worker from the Procfile's `worker:` line closes polls.

- a poll closes at its closing time, closed by the worker (not just refused by the clock);
- the worker gets SIGTERM (every process of its group, as Heroku does) while it holds the
  poll's ETA job; a fresh worker starts; the poll still closes on time, which the
  30-second sweep alone could not do;
- the same over rediss:// with a self-signed certificate (Heroku Key-Value Store);
- the poll pages in a real headless Chromium (harness.browser): create, vote, one vote per
  browser, and "closed" shown without a reload once the worker closed the poll.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

import httpx
import pytest

from conftest import record
from harness.browser import browser
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
        f"closed {lateness(shown):.1f} s late: the ETA job was lost and only the sweep closed it",
        shown,
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


def save_screenshot(page, path) -> None:
    """An 800 px wide PNG in 64 colours: a few tens of KB to commit with the README."""
    from io import BytesIO

    from PIL import Image  # matplotlib's dependency

    image = Image.open(BytesIO(page.screenshot(full_page=True))).convert("RGB")
    image.quantize(colors=64).save(path, optimize=True)


def test_poll_pages_in_a_real_browser(spec, launch, database):
    """Create a poll on the page, vote, watch the bar; the worker closes it and the page says so.

    UPDATE_SCREENSHOTS=1 also writes the README's screenshots to flask_gunicorn/docs/.
    """
    web = launch()
    start_worker(launch)
    question = "Tea or coffee? <b>not bold</b>"
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": 800, "height": 600})
        page.goto(f"{web.url}/polls/")
        page.fill("#question", question)
        page.fill("#options", "Tea\nCoffee\nWater")
        # datetime-local takes the browser's local time, 8 s from now.
        closes = page.evaluate(
            "() => new Date(Date.now() + 8000 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 19)"
        )
        page.fill("#closes-at", closes)
        page.click("#create-poll button")
        page.wait_for_url(re.compile(r"/polls/\d+$"), timeout=10000)
        poll_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator("h1").text_content() == question
        assert page.locator("h1 b").count() == 0  # text, not HTML

        page.get_by_label("Coffee").check()
        page.click("#vote button")
        coffee = page.locator("#results li", has_text="Coffee")
        coffee.locator(".votes", has_text="1").wait_for(timeout=5000)
        assert coffee.locator("rect").get_attribute("width") == "100%"
        assert coffee.locator(".percent").text_content() == "100"
        stored = database.query("SELECT text, votes FROM poll_option WHERE poll_id = %s ORDER BY position", poll_id)
        assert stored == [("Tea", 0), ("Coffee", 1), ("Water", 0)]

        page.reload()
        assert coffee.locator(".votes").text_content() == "1"
        assert page.locator("#vote").is_hidden() and page.locator("#voted").is_visible()
        second = page.evaluate(
            """async ([url, option_id]) => (await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                                 body: JSON.stringify({option_id})})).status""",
            [f"/api/polls/{poll_id}/votes", int(coffee.get_attribute("data-option-id"))],
        )
        assert second == 409
        if os.environ.get("UPDATE_SCREENSHOTS"):
            save_screenshot(page, spec.path / "docs" / "poll.png")

        page.evaluate("() => { window.notReloaded = true; }")
        page.locator("#status", has_text="closed").wait_for(timeout=20000)
        assert page.evaluate("() => window.notReloaded") is True
        shown = wait_until_closed(web, {"id": poll_id}, limit=10)
        assert 0 <= lateness(shown) < ON_TIME, shown  # closed by the worker's ETA job, not the sweep
        assert database.query("SELECT sum(votes) FROM poll_option WHERE poll_id = %s", poll_id) == [(1,)]

        page.goto(f"{web.url}/polls/")
        assert page.locator(".polls li", has_text=question).locator(".status").text_content() == "closed"
        if os.environ.get("UPDATE_SCREENSHOTS"):
            save_screenshot(page, spec.path / "docs" / "poll-list.png")
