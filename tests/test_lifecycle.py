"""Boot, release and shutdown, as the platform drives them.

Must-haves: binding within Heroku's 60 s, release idempotent, answers for requests in flight
and the group gone before 30 s, SECRET_KEY refused at once. The exact times are measured.
"""

from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from conftest import record
from harness.platform import BOOT_LIMIT, STOP_LIMIT
from harness.postgres import admin_connect


def test_boots_within_the_platform_limit(spec, launch):
    process = launch()
    record(spec, "boot_seconds", process.boot_seconds)
    assert process.boot_seconds < BOOT_LIMIT
    assert httpx.get(process.url + "/health", timeout=5).status_code == 200


def contents(database) -> list[tuple]:
    """Every row of world and fortune, as digests: a row duplicated, dropped or reset shows."""
    return database.query(
        "SELECT (SELECT md5(string_agg(id || ':' || randomnumber, ',' ORDER BY id)) FROM world),"
        " (SELECT md5(string_agg(id || ':' || message, ',' ORDER BY id)) FROM fortune)"
    )


def test_release_twice_changes_nothing(spec, platform, database):
    platform.release()
    # What the running app writes between two deploys (/updates): a second release must keep it.
    database.query("UPDATE world SET randomnumber = randomnumber % 10000 + 1 WHERE id <= 100")
    before = contents(database)
    record(spec, "release_seconds", platform.release())
    assert contents(database) == before, "the second release changed world or fortune"


def test_sigterm_lets_requests_in_flight_finish(spec, database, launch):
    """Requests held on a table lock when SIGTERM arrives still get their answer."""
    process = launch()
    paths = ["/db", "/db", "/queries?queries=2", "/queries?queries=2"]
    with admin_connect(database.name) as locker:
        locker.autocommit = False
        locker.execute("LOCK TABLE world IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(len(paths)) as pool:
            futures = [pool.submit(httpx.get, process.url + path, timeout=40) for path in paths]
            deadline = time.monotonic() + 15
            while database.waiting_on_locks() < len(paths):
                assert time.monotonic() < deadline, "requests never reached the database"
                time.sleep(0.05)
            sent = time.monotonic()
            process.signal(signal.SIGTERM)
            time.sleep(1.5)
            locker.commit()
            statuses = [future.result().status_code for future in futures]
    shutdown = process.wait_exit(STOP_LIMIT, since=sent)
    record(spec, "shutdown_seconds_with_requests_in_flight", shutdown)
    assert statuses == [200] * len(paths)


def test_idle_shutdown_within_the_platform_grace(spec, launch):
    process = launch()
    seconds = process.stop()  # fails past STOP_LIMIT, Heroku's SIGKILL
    record(spec, "shutdown_seconds_idle", seconds)
    assert not process.group_alive()


def test_production_without_secret_key_refuses_to_start(spec, launch):
    process = launch(env={"SECRET_KEY": None}, release=False, wait=False)
    deadline = time.monotonic() + 20
    while process.group_alive():
        assert time.monotonic() < deadline, f"still running without SECRET_KEY:\n{process.output()}"
        time.sleep(0.1)
    output = process.output()
    assert process.proc.returncode != 0
    assert "SECRET_KEY" in output
    assert "Traceback" not in output, output


def test_heroku_and_libpq_url_forms_both_work(database, launch):
    process = launch(env={"DATABASE_URL": database.url.replace("postgres://", "postgresql://", 1)})
    assert httpx.get(process.url + "/db", timeout=5).status_code == 200
    assert database.url.startswith("postgres://")  # the platform's default form, used everywhere else
