"""`make run` (python -m scripts.run): with Postgres and Redis up, as they are for the suite,
every app runs from its Procfile on a database of its own and every contract route answers 200."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from conftest import selected_apps
from harness.apps import REPO
from harness.postgres import admin_connect
from scripts.run import ROUTES

READY_LIMIT = 180  # release + collectstatic + boot of every app, one after another, on a loaded machine


def free_block(size: int) -> int:
    """`size` consecutive ports free on 127.0.0.1 and ::1 (the apps bind the dual-stack [::])."""
    for _ in range(200):
        base = random.randrange(20000, 30000 - size)
        try:
            for port in range(base, base + size):
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                    sock.bind(("::", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports")


def test_make_run_serves_every_contract_route_on_postgres_and_redis(request, tmp_path):
    specs = selected_apps(request.config)
    base = free_block(len(specs))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DYNO", "PORT")}
    env["RUN_FIRST_PORT"] = str(base)
    log = tmp_path / "run.log"  # a file, not a pipe: nobody reads a pipe while the apps log into it
    with log.open("w") as out:
        runner = subprocess.Popen(
            [sys.executable, "-m", "scripts.run", *(spec.name for spec in specs)],
            cwd=REPO,
            env=env,
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + READY_LIMIT
        while "/health  routes" not in log.read_text():
            assert runner.poll() is None, f"make run stopped:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no table after {READY_LIMIT} s:\n{log.read_text()[-3000:]}"
            time.sleep(1)
        time.sleep(0.5)  # the rest of the table, printed in one write
        output = log.read_text()
        assert "On Postgres (database <app>_run) and Redis." in output, output[-3000:]
        for offset, spec in enumerate(specs):
            url = f"http://127.0.0.1:{base + offset}"
            row = re.search(rf"^{spec.name}\s+{url}/\s+200\s+all {len(ROUTES)} contract routes answer 200$", output, re.M)
            assert row, f"{spec.name}'s row is not all 200:\n{output[output.index('/health  routes') - 200 :]}"
            for route in ROUTES:
                response = httpx.get(url + route, timeout=10)
                assert response.status_code == 200, (spec.name, route, response.status_code, response.text[:300])
            # The data routes answered from the app's own Postgres database, migrated by `release:`.
            with admin_connect(f"{spec.name}_run") as conn:
                tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
            assert tables > 0, f"{spec.name}_run has no tables: release did not migrate it"
    finally:
        os.killpg(runner.pid, signal.SIGINT)
        try:
            runner.wait(timeout=30)
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGKILL)
