"""Article 000's failure, reproduced: workers' pools together must leave the plan room.

The app's role has CONNECTION LIMIT 20 (the plan's), so an app that over-commits fails
for real. Under concurrent clients the suite samples pg_stat_activity, runs the `release:`
line again and opens a psql-style session: all three must fit, at every WEB_CONCURRENCY the
buildpack can set, unless the app refuses that WEB_CONCURRENCY at once with one line.
"""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest

from conftest import record
from harness.http import load
from harness.platform import BOOT_LIMIT
from harness.postgres import CONNECTION_LIMIT

# Heroku's Python buildpack sets WEB_CONCURRENCY from the dyno's memory: 1 to 8 on the
# Standard, Private and Performance-M sizes, 17 on Performance-L (where 17 x 1 + 2 > 20).
WEB_CONCURRENCIES = [1, 2, 4, 8, 17]
REFUSE_WITHIN = 10.0  # "at once": a refusal comes before anything else is slow
# More clients than the plan has connections, so that every process can reach for its share.
BURST_CLIENTS = CONNECTION_LIMIT + 4

DATABASE_PATHS = ["/db", "/queries?queries=5", "/updates?queries=5", "/fortunes"]


@pytest.mark.parametrize("workers", [2, 4])
def test_connections_stay_within_the_plan_under_load(spec, database, platform, launch, workers):
    process = launch(env={"WEB_CONCURRENCY": workers})
    side_results = {}

    maintenance_done = threading.Event()

    def maintenance():
        # What the article's author could not do: release and a psql session while web is busy.
        try:
            with sampler.while_others_connect():
                side_results["release"] = platform.release(env={"WEB_CONCURRENCY": workers})
                with psycopg.connect(database.url.replace("postgres://", "postgresql://", 1), connect_timeout=5) as conn:
                    side_results["psql"] = conn.execute("SELECT 1").fetchone()
        finally:
            maintenance_done.set()

    with database.sample_connections() as sampler:
        # Web alone for the first 3 s, then release and psql squeezed in, and the load goes
        # on at least until they finish.
        timer = threading.Timer(3.0, maintenance)
        timer.start()
        started = time.monotonic()
        result = load(process.url, DATABASE_PATHS, clients=64, seconds=5, until=maintenance_done)
        elapsed = time.monotonic() - started
        timer.join()
    record(spec, f"peak_connections_at_{workers}_workers", sampler.peak)
    record(spec, f"peak_connections_with_release_and_psql_at_{workers}_workers", sampler.peak_with_others)
    record(spec, f"requests_under_load_at_{workers}_workers", result.requests)
    record(spec, f"requests_per_second_under_load_at_{workers}_workers", result.requests / elapsed)
    assert sampler.samples_alone > 10 and result.requests > 64
    assert sampler.peak <= CONNECTION_LIMIT - 2, f"web alone peaked at {sampler.peak}: no room for release and psql"
    assert sampler.peak_with_others <= CONNECTION_LIMIT
    assert side_results.get("psql") == (1,), "no psql session possible while web was busy"
    assert "release" in side_results, "release could not run while web was busy"
    assert result.non_2xx == 0, (result.statuses, result.errors[:5])
    assert httpx.get(process.url + "/health", timeout=5).status_code == 200


def psql_session(database) -> tuple:
    with psycopg.connect(database.url.replace("postgres://", "postgresql://", 1), connect_timeout=5) as conn:
        return conn.execute("SELECT 1").fetchone()


@pytest.mark.parametrize("web_concurrency", WEB_CONCURRENCIES)
def test_budget_holds_or_the_app_refuses_at_any_web_concurrency(spec, database, platform, launch, web_concurrency):
    """Boot (web, then the app's other process types), a short burst, a release and a psql
    session, stop: within the role's CONNECTION LIMIT throughout; or web exits before binding
    PORT, at once, non-zero, with one line why."""
    env = {"WEB_CONCURRENCY": web_concurrency}
    with database.sample_connections() as sampler:
        with sampler.while_others_connect():
            platform.release(env=env)
        started = time.monotonic()
        process = launch(env=env, release=False, wait=False)
        try:
            process.wait_for_port()
        except AssertionError:
            if process.proc.poll() is None:
                raise  # neither bound nor exited within Heroku's boot limit
            refused_after = time.monotonic() - started
            output = process.output()
            record(spec, f"web_concurrency_{web_concurrency}", f"refused after {refused_after:.1f} s")
            assert process.proc.returncode != 0, output
            assert refused_after < REFUSE_WITHIN, output
            assert "Traceback" not in output, output
            reason = [line for line in output.splitlines() if "WEB_CONCURRENCY" in line or "DATABASE_CONNECTION_LIMIT" in line]
            assert reason, f"no line names WEB_CONCURRENCY or DATABASE_CONNECTION_LIMIT:\n{output}"
            return
        # Booted: /health answers 200. Up to 17 processes starting on a small shared machine may
        # bind PORT seconds before their pools are ready; the budget, not boot speed, is judged here.
        while httpx.get(process.url + "/health", timeout=10).status_code != 200:
            assert time.monotonic() - started < BOOT_LIMIT, f"/health not 200 within {BOOT_LIMIT:.0f} s"
            time.sleep(0.5)
        for process_type in spec.procfile.keys() - {"web", "release"}:
            # The app's other process types hold connections too; Heroku sets WEB_CONCURRENCY on them as well.
            launch(env=env, process_type=process_type, release=False, wait=False)
        result = load(process.url, DATABASE_PATHS, clients=BURST_CLIENTS, seconds=2)
        with sampler.while_others_connect():
            platform.release(env=env)
            psql = psql_session(database)
        process.stop()
    record(
        spec, f"web_concurrency_{web_concurrency}", f"peak {sampler.peak} alone, {sampler.peak_with_others} with release and psql"
    )
    assert psql == (1,)
    assert result.requests > 0 and result.non_2xx == 0, (result.statuses, result.errors[:5])
    assert sampler.peak <= CONNECTION_LIMIT - 2, f"web alone peaked at {sampler.peak}: no room for release and psql"
    assert sampler.peak_with_others <= CONNECTION_LIMIT
