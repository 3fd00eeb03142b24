"""sanic_app only: what the article got wrong, checked on the app as Heroku boots it.

- each Sanic worker opens its own asyncpg pool, sized by the budget formula, and logs it;
  at WEB_CONCURRENCY=4 under load the web holds at most 4 x 4 = 16 connections, and the
  release phase still connects meanwhile (the article's failure);
- the notes resource end to end: create, read, list, delete, validation with nothing
  half-written;
- a worker that receives both Heroku's SIGTERM and the manager's SIGINT still answers
  requests in flight (keep-alive clients) and the group exits promptly.
"""

from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from conftest import record
from harness.http import load
from harness.postgres import admin_connect

pytestmark = pytest.mark.only_app("sanic_app")


def per_worker(limit: int, workers: int, reserved: int = 2) -> int:
    return max(1, (limit - reserved) // workers)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_each_worker_logs_its_pool_from_the_budget(spec, database, launch, workers):
    process = launch(env={"WEB_CONCURRENCY": workers})
    assert httpx.get(process.url + "/db", timeout=5).status_code == 200
    deadline = time.monotonic() + 10
    while True:
        sizes = [int(n) for n in re.findall(r"up to (\d+) connections in this worker", process.output())]
        if len(sizes) >= workers or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sizes == [per_worker(20, workers)] * workers


def test_pools_leave_room_for_release_at_four_workers(spec, database, platform, launch):
    process = launch(env={"WEB_CONCURRENCY": 4})
    released = threading.Event()
    results = []
    loader = threading.Thread(
        target=lambda: results.append(load(process.url, ["/db", "/queries?queries=3"], clients=32, seconds=4, until=released))
    )
    with database.sample_connections() as sampler:  # one held session, sampled every 20 ms
        loader.start()
        try:
            # The pools open lazily (min_size=0), and the load's 32 clients take seconds of CPU to
            # build before any request (1.4 s at load 4 on 2 cores, far more in a broad run): wait
            # until the load reaches the database, then release beside it; the load lasts till done.
            deadline = time.monotonic() + 30
            while sampler.peak < 4:
                assert time.monotonic() < deadline, "the load never reached the database"
                time.sleep(0.1)
            time.sleep(0.5)
            with sampler.while_others_connect():
                release_seconds = platform.release(env={"WEB_CONCURRENCY": 4})  # raises if it cannot connect
        finally:
            released.set()
            loader.join()
    record(spec, "peak_connections_web_only_at_4_workers", sampler.peak)
    record(spec, "release_seconds_under_load", release_seconds)
    assert 0 < sampler.peak <= 4 * per_worker(20, 4)
    assert sampler.peak_with_others <= 4 * per_worker(20, 4) + 1  # the web's pools plus the release's one connection
    assert results[0].requests > 32


def test_notes_end_to_end(spec, database, launch):
    process = launch()
    with httpx.Client(base_url=process.url, timeout=5) as client:
        created = client.post("/notes", json={"title": "hello", "body": "Ünïcode & <b>"})
        assert created.status_code == 201
        note = created.json()
        assert client.get(created.headers["location"]).json() == note
        assert note["id"] in [n["id"] for n in client.get("/notes", params={"limit": 100}).json()["notes"]]

        before = database.query("SELECT count(*) FROM notes")[0][0]
        for bad in (b"{oops", b'{"title": 1}', b'{"title": "' + b"x" * 201 + b'"}', b'{"title": "ok", "extra": 1}'):
            response = client.post("/notes", content=bad, headers={"content-type": "application/json"})
            assert response.status_code == 400 and response.json()["error"]
        assert database.query("SELECT count(*) FROM notes")[0][0] == before
        assert client.get("/notes", params={"limit": "x"}).status_code == 400

        assert client.delete(f"/notes/{note['id']}").status_code == 204
        assert client.get(f"/notes/{note['id']}").status_code == 404


def test_double_signal_still_drains_keep_alive_clients(spec, database, launch):
    process = launch(env={"WEB_CONCURRENCY": 2})
    statuses = []

    def slow_request():
        with httpx.Client(base_url=process.url, timeout=30) as client:
            statuses.append(client.get("/queries", params={"queries": 3}).status_code)

    # An idle keep-alive connection stays open through the stop: it must not hold the
    # workers until the graceful timeout.
    stop_seconds = []
    stopping = threading.Thread(target=lambda: stop_seconds.append(process.stop(timeout=30)))
    threads = [threading.Thread(target=slow_request) for _ in range(4)]
    with httpx.Client(base_url=process.url, timeout=30) as idle, admin_connect(database.name) as lock_holder:
        assert idle.get("/json").status_code == 200
        with lock_holder.transaction():
            lock_holder.execute("LOCK TABLE world IN ACCESS EXCLUSIVE MODE")
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 10
            while database.waiting_on_locks() < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            in_flight = database.waiting_on_locks()
            assert in_flight == 4, f"{in_flight} of 4 requests reached the database before SIGTERM"
            stopping.start()
            time.sleep(1.0)
        # the transaction ends here and releases the lock
        for thread in threads:
            thread.join(30)
        stopping.join(35)
    assert statuses == [200] * 4
    record(spec, "shutdown_seconds_with_keep_alive_and_requests_in_flight", stop_seconds[0])
    assert stop_seconds[0] < 10, f"group took {stop_seconds[0]:.1f} s to exit"
