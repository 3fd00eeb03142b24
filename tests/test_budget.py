"""Article 000's failure, reproduced: workers' pools together must leave the plan room.

The app's role has CONNECTION LIMIT 20 (the plan's), so an app that over-commits fails
for real. Under 64 concurrent clients the suite samples pg_stat_activity, runs the
`release:` line again and opens a psql-style session: all three must fit.
"""

from __future__ import annotations

import threading

import httpx
import psycopg
import pytest

from conftest import record
from harness.http import load
from harness.postgres import CONNECTION_LIMIT

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
        result = load(process.url, DATABASE_PATHS, clients=64, seconds=5, until=maintenance_done)
        timer.join()
    record(spec, f"peak_connections_at_{workers}_workers", sampler.peak)
    record(spec, f"peak_connections_with_release_and_psql_at_{workers}_workers", sampler.peak_with_others)
    record(spec, f"requests_under_load_at_{workers}_workers", result.requests)
    assert sampler.samples_alone > 10 and result.requests > 64
    assert sampler.peak <= CONNECTION_LIMIT - 2, f"web alone peaked at {sampler.peak}: no room for release and psql"
    assert sampler.peak_with_others <= CONNECTION_LIMIT
    assert side_results.get("psql") == (1,), "no psql session possible while web was busy"
    assert "release" in side_results, "release could not run while web was busy"
    assert result.non_2xx == 0, (result.statuses, result.errors[:5])
    assert httpx.get(process.url + "/health", timeout=5).status_code == 200
