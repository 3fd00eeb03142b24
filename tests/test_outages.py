"""A dependency that is down at boot, or fails mid-run: 503 within 5 s, no crash, recovery.

Outages go through a proxy the test owns; the shared Postgres and Redis are never touched.
The 5 s and the recovery are must-haves; the exact times are measured and reported.
"""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import record
from harness.http import leaks, timed_get
from harness.platform import free_port
from harness.proxy import TcpProxy

ANSWER_WITHIN = 5.0  # contract v2: well under the router's 30 s
RECOVERY_WITHIN = 15.0


@pytest.fixture
def postgres_proxy(database):
    proxy = TcpProxy(database.port)
    yield proxy
    proxy.close()


def assert_unavailable(url: str) -> float:
    response, seconds = timed_get(url, timeout=10)
    assert response.status_code == 503, f"{url}: {response.status_code} {response.text[:300]}"
    assert response.text.strip() and not leaks(response.text)
    assert seconds < ANSWER_WITHIN, f"{url} took {seconds:.2f} s"
    return seconds


def test_database_down_at_boot(spec, database, launch):
    closed = database.url_via(free_port())
    process = launch(env={"DATABASE_URL": closed}, release=False)
    assert httpx.get(process.url + "/json", timeout=5).status_code == 200
    worst = max(assert_unavailable(process.url + path) for path in ("/health", "/db", "/queries?queries=3", "/fortunes"))
    record(spec, "database_down_at_boot_answer_seconds_worst", worst)
    health = httpx.get(process.url + "/health", timeout=5).json()
    assert health["status"] == "error" and health["checks"]["database"] not in ("ok", "not configured")


def test_database_cut_mid_run_then_restored(spec, database, postgres_proxy, launch):
    process = launch(env={"DATABASE_URL": database.url_via(postgres_proxy.port)})
    assert httpx.get(process.url + "/db", timeout=5).status_code == 200

    postgres_proxy.cut()
    worst = max(
        assert_unavailable(process.url + path) for path in ("/db", "/health", "/updates?queries=2", "/db", "/fortunes", "/health")
    )
    record(spec, "outage_answer_seconds_worst", worst)
    assert httpx.get(process.url + "/json", timeout=5).status_code == 200
    assert process.group_alive()

    postgres_proxy.restore()
    record(spec, "recovery_seconds", wait_for_recovery(process.url + "/db", "the database"))
    assert httpx.get(process.url + "/health", timeout=5).status_code == 200


def wait_for_recovery(url: str, what: str) -> float:
    restored = time.monotonic()
    while httpx.get(url, timeout=10).status_code != 200:
        assert time.monotonic() - restored < RECOVERY_WITHIN, f"no recovery {RECOVERY_WITHIN:.0f} s after {what} returned"
        time.sleep(0.2)
    return time.monotonic() - restored


def redis_check(process) -> str:
    return httpx.get(process.url + "/health", timeout=5).json()["checks"]["redis"]


@pytest.mark.feature("heroku-redis")
def test_redis_cut_mid_run(spec, launch, redis_url):
    """For the apps whose app.json provisions Redis: /health reports it, 503 within 5 s when
    it is cut, and recovery when it returns."""
    proxy = TcpProxy(6379)
    try:
        process = launch(env={"REDIS_URL": f"redis://127.0.0.1:{proxy.port}/{spec.redis_db}"})
        assert redis_check(process) == "ok", "the app provisions Redis but /health does not report it reached"
        proxy.cut()
        record(spec, "redis_outage_answer_seconds", assert_unavailable(process.url + "/health"))
        assert redis_check(process) not in ("ok", "not configured")
        assert process.group_alive()
        proxy.restore()
        record(spec, "redis_recovery_seconds", wait_for_recovery(process.url + "/health", "Redis"))
        assert redis_check(process) == "ok"
    finally:
        proxy.close()
