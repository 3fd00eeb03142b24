"""`make run`: every app side by side (or those named), each from its own Procfile, the way
`heroku local` runs them.

When Postgres and Redis answer (`make services` started them, or they were already running),
each app gets a database of its own, `<app>_run` (created when missing, never dropped, so
what you made survives a restart), and a Redis database number of its own; its build steps
and `release:` line run first. Without them, each app runs on its embedded development
defaults. One honcho manager prefixes every process's output; Ctrl-C stops them all.

Once every app answers, a table shows each app's URL, its /health status and the contract
routes that do not answer 200, with the reason the app gave.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import psycopg
import redis
import yaml
from honcho.manager import Manager
from psycopg import sql

from harness.apps import REDIS_BASE, REPO, AppSpec, discover
from harness.platform import platform_env
from harness.postgres import ADMIN_URL, admin_connect

FIRST_PORT = int(os.environ.get("RUN_FIRST_PORT", "8001"))
READY_LIMIT = 90.0  # seconds for every app to answer, its release and boot included
ROUTES = [
    path
    for path, operations in yaml.safe_load((REPO / "tests/contract/openapi.yaml").read_text())["paths"].items()
    if "get" in operations
]


@dataclass
class Running:
    spec: AppSpec
    port: int
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def postgres_answers() -> bool:
    try:
        with admin_connect():
            return True
    except psycopg.OperationalError:
        return False


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_BASE, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def run_database_url(spec: AppSpec) -> str:
    """`<app>_run`, created when missing and never dropped: `make run` is for trying things."""
    name = f"{spec.name}_run"
    with admin_connect() as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlsplit(ADMIN_URL)._replace(path="/" + name).geturl()


def run_redis_url(spec: AppSpec, app_count: int) -> str:
    """The suite flushes Redis db 1..N (one per app) while it runs; `make run` takes the next N,
    so running both at once loses nothing (Redis has 16 by default)."""
    return f"{REDIS_BASE}/{spec.redis_db + app_count}"


def first_line(text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line[:80]


def check(app: Running) -> tuple[str, list[str]]:
    """/health's status and the routes that do not answer 200, each with the app's reason."""
    health = "-"
    failing = []
    for route in ROUTES:
        try:
            response = httpx.get(app.url + route, timeout=10)
        except httpx.HTTPError as error:
            failing.append(f"{route}: {type(error).__name__}")
            continue
        if route == "/health":
            health = str(response.status_code)
        if response.status_code != 200:
            failing.append(f"{route}: {response.status_code} {first_line(response.text)}")
    return health, failing


def report(apps: list[Running], services: str) -> None:
    """Wait until every app answers, then print the side-by-side table."""
    deadline = time.monotonic() + READY_LIMIT
    rows = []
    for app in apps:
        while True:
            try:
                httpx.get(app.url + "/health", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
        health, failing = check(app)
        rows.append((app.spec.name, app.url + "/", health, app.notes + failing))
    width = max(len(row[0]) for row in rows)
    lines = [f"\n{services}", f"{'app':<{width}}  {'URL':<24}  /health  routes"]
    for name, url, health, problems in rows:
        summary = f"all {len(ROUTES)} contract routes answer 200" if not problems else problems[0]
        lines.append(f"{name:<{width}}  {url:<24}  {health:<7}  {summary}")
        lines.extend(f"{'':<{width + 36}}  {problem}" for problem in problems[1:])
    print("\n".join(lines) + "\n", flush=True)


def main(names: list[str]) -> int:
    specs = [spec for spec in discover() if not names or spec.name in names]
    app_count = len(discover())
    with_postgres, with_redis = postgres_answers(), redis_answers()
    services = " and ".join(
        part for part, there in (("Postgres (database <app>_run)", with_postgres), ("Redis", with_redis)) if there
    )
    services = f"On {services}." if services else "No Postgres or Redis: embedded defaults."
    if with_postgres != with_redis:
        services += f" No {'Redis' if with_postgres else 'Postgres'} at 127.0.0.1: embedded default for it."

    manager = Manager()
    apps = []
    secret_key = secrets.token_urlsafe(48)  # one per run: sessions end when make run does
    for offset, spec in enumerate(specs):
        app = Running(spec, FIRST_PORT + offset)
        env = platform_env(
            spec,
            port=app.port,
            dyno=None,
            database_url=run_database_url(spec) if with_postgres else None,
            redis_url=run_redis_url(spec, app_count) if with_redis else None,
            overrides={"SECRET_KEY": secret_key},
        )
        for command in [*spec.build_commands, spec.procfile.get("release")]:
            if command and subprocess.run(["sh", "-c", command], cwd=spec.path, env=env).returncode != 0:
                app.notes.append(f"`{command}` failed (its output is above)")
        for process_type, command in spec.procfile.items():
            if process_type != "release":
                manager.add_process(f"{spec.name}.{process_type}", command, env=env, cwd=str(spec.path))
        apps.append(app)
    threading.Thread(target=report, args=(apps, services), daemon=True).start()
    manager.loop()
    return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
