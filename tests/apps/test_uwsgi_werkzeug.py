"""Checks only uwsgi_werkzeug has: uWSGI's memory reports, the opt-in loopback stats server,
and SIGTERM delivered to the master alone or to the workers alone (Heroku signals both)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness.platform import free_port
from harness.postgres import admin_connect

pytestmark = pytest.mark.only_app("uwsgi_werkzeug")

RSS = re.compile(r"\{rss usage: (\d+) bytes/\d+MB\}")


def group_pids(pgid: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, name) of every uWSGI process in the group (auto-procname names
    them "uWSGI master", "uWSGI worker N", "uWSGI http 1")."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,args=", "-g", str(pgid)], capture_output=True, text=True).stdout
    rows = (line.split(None, 2) for line in out.splitlines())
    return {int(pid): (int(ppid), args) for pid, ppid, args in rows if args.startswith("uWSGI")}


def routers(pgid: int) -> list[int]:
    return [pid for pid, (_, name) in group_pids(pgid).items() if name.startswith("uWSGI http")]


def master_and_workers(pgid: int, expected_workers: int = 2, wait: float = 20) -> tuple[int, list[int]]:
    deadline = time.monotonic() + wait
    while True:
        procs = group_pids(pgid)
        masters = [pid for pid, (_, name) in procs.items() if name.startswith("uWSGI master")]
        if len(masters) == 1:
            workers = [pid for pid, (ppid, name) in procs.items() if ppid == masters[0] and "worker" in name]
            if len(workers) == expected_workers:
                return masters[0], workers
        assert time.monotonic() < deadline, f"uWSGI processes not found: {procs}"
        time.sleep(0.1)


def test_memory_report_lines_give_rss_per_worker(launch):
    process = launch()
    for _ in range(20):
        assert httpx.get(process.url + "/plaintext", timeout=5).status_code == 200
    deadline = time.monotonic() + 5
    while not RSS.search(process.output()):
        assert time.monotonic() < deadline, process.output()[-2000:]
        time.sleep(0.1)
    rss = [int(value) for value in RSS.findall(process.output())]
    assert all(10 * 2**20 < value < 256 * 2**20 for value in rss), rss


def wait_for_output(process, text, wait=20):
    deadline = time.monotonic() + wait
    while text not in process.output():
        assert time.monotonic() < deadline, process.output()[-2000:]
        time.sleep(0.1)


def test_stats_server_is_off_unless_asked_for(launch):
    process = launch()
    wait_for_output(process, "spawned uWSGI worker 2")
    assert "stats server enabled" not in process.output().lower()


def test_stats_server_binds_loopback_when_asked_for(launch):
    port = free_port()
    process = launch(env={"STATS_PORT": str(port)})
    wait_for_output(process, f"Stats server enabled on 127.0.0.1:{port}")
    # stats-http: readable with curl inside a dyno, and by uwsgitop.
    stats = httpx.get(f"http://127.0.0.1:{port}/", timeout=5).json()
    assert len(stats["workers"]) == 2
    with pytest.raises(OSError):
        socket.create_connection(("::1", port), timeout=2).close()


def hold_world_lock_and_fire(process, database, paths):
    locker = admin_connect(database.name)
    locker.autocommit = False
    locker.execute("LOCK TABLE world IN ACCESS EXCLUSIVE MODE")
    pool = ThreadPoolExecutor(len(paths))
    futures = [pool.submit(httpx.get, process.url + path, timeout=40) for path in paths]
    deadline = time.monotonic() + 15
    while database.waiting_on_locks() < len(paths):
        assert time.monotonic() < deadline, "requests never reached the database"
        time.sleep(0.05)
    return locker, pool, futures


@pytest.mark.parametrize("target", ["master", "workers", "router"])
def test_sigterm_to_one_kind_of_process_alone_finishes_requests(launch, database, target):
    process = launch()
    master, workers = master_and_workers(process.pgid)
    paths = ["/db", "/queries?queries=3", "/db", "/queries?queries=2"]
    locker, pool, futures = hold_world_lock_and_fire(process, database, paths)
    for pid in {"master": [master], "workers": workers, "router": routers(process.pgid)}[target]:
        os.kill(pid, signal.SIGTERM)
    time.sleep(1.5)
    locker.commit()
    locker.close()
    assert [future.result().status_code for future in futures] == [200] * len(paths)
    pool.shutdown()
    if target == "master":
        # The master's SIGTERM is a shutdown of the whole instance.
        assert process.wait_exit(30) < 30
    elif target == "router":
        # The router ignores SIGTERM (hook-as-gateway); the master ends it at shutdown.
        assert httpx.get(process.url + "/db", timeout=5).status_code == 200
    else:
        # Workers stopped alone are replaced; the instance keeps serving.
        deadline = time.monotonic() + 20
        while set(master_and_workers(process.pgid)[1]) & set(workers):
            assert time.monotonic() < deadline, "the signalled workers never exited"
            time.sleep(0.1)
        assert httpx.get(process.url + "/db", timeout=5).status_code == 200


def test_sigterm_during_boot_still_stops_the_dyno(launch):
    # uWSGI ignores SIGTERM until its master loop runs, while PORT is already bound.
    process = launch(wait=False)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", process.port), timeout=0.5).close()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    assert process.stop() < 10
