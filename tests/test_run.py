"""`make run`: every app from its Procfile through honcho, on embedded defaults, no services."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from conftest import selected_apps
from harness.apps import REPO


def free_block(size: int) -> int:
    for base in range(21000, 30000, 10):
        try:
            for port in range(base, base + size):
                with socket.create_server(("127.0.0.1", port)):
                    pass
            return base
        except OSError:
            continue
    raise RuntimeError("no free block of ports")


def test_make_run_serves_every_app_on_its_embedded_defaults(request, tmp_path):
    specs = selected_apps(request.config)
    base = free_block(len(specs))
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DYNO", "PORT", "VIRTUAL_ENV")}
    env["RUN_FIRST_PORT"] = str(base)
    command = [sys.executable, "scripts/run.py", *(spec.name for spec in specs)]
    log = tmp_path / "run.log"  # a file, not a pipe: nobody reads a pipe while the apps log into it
    with log.open("w") as out:
        runner = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        for offset, spec in enumerate(specs):
            url = f"http://127.0.0.1:{base + offset}"
            while True:
                assert runner.poll() is None, log.read_text()
                try:
                    home = httpx.get(url + "/", timeout=5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, f"{spec.name} never answered on {url}"
                    time.sleep(0.5)
            assert home.status_code == 200, (spec.name, home.text[:300])
            assert httpx.get(url + "/json", timeout=5).json() == {"message": "Hello, World!"}
            health = httpx.get(url + "/health", timeout=5).json()
            assert health["checks"]["redis"] == "not configured", (spec.name, health)
            # An embedded database (SQLite) serves the data routes; without one they say why.
            db = httpx.get(url + "/db", timeout=5)
            assert db.status_code == 200 or "DATABASE_URL" in db.text, (spec.name, db.status_code, db.text[:300])
    finally:
        os.killpg(runner.pid, signal.SIGINT)
        try:
            runner.wait(timeout=30)
        finally:
            if runner.poll() is None:
                os.killpg(runner.pid, signal.SIGKILL)
