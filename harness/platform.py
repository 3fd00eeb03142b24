"""Run an app's Procfile lines as Heroku does: release, then web, in the app's environment.

Each process type runs under `sh -c` in the app folder, in a process group of its own, with
the app's virtualenv first on PATH. Stopping sends SIGTERM to every process of the group,
as Heroku does to every process of a dyno, then SIGKILL after 30 s.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .apps import AppSpec
from .postgres import CONNECTION_LIMIT, Database

BOOT_LIMIT = 60.0  # Heroku's boot timeout (R10)
STOP_LIMIT = 30.0  # Heroku's SIGTERM-to-SIGKILL grace

# Variables of the shell that runs the suite which must not leak into an app: the app gets
# the platform's environment, not the developer's.
SCRUBBED = {
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYENV_VERSION",
    "CI",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "PORT",
    "WEB_CONCURRENCY",
    "DYNO",
    "DATABASE_CONNECTION_LIMIT",
    "DJANGO_SETTINGS_MODULE",
    "FLASK_APP",
    "FLASK_DEBUG",
    "PYTEST_ADDOPTS",
    "PYTEST_CURRENT_TEST",
}
SCRUBBED_PREFIXES = ("SANIC_", "UWSGI_", "CELERY_", "GITHUB_")


# What Heroku's Python buildpack exports on every dyno (its .profile.d script).
BUILDPACK_EXPORTS = {"FORWARDED_ALLOW_IPS": "*", "GUNICORN_CMD_ARGS": "--access-logfile -"}


def free_port() -> int:
    """A port free on both 127.0.0.1 and ::1, since apps bind the dual-stack [::]."""
    while True:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind(("::", 0))
            port = sock.getsockname()[1]
        if port > 1024:
            return port


def _clean_path(spec: AppSpec) -> str:
    """The app's venv first; no pyenv version directory or other venv in front of it.

    A pyenv shim runs the suite with its own version's bin first on PATH; left there, it
    would decide which Python the app's Procfile commands get instead of the app's venv.
    """
    pyenv_versions = str(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions")
    kept = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not entry.startswith(pyenv_versions) and not entry.endswith(("/.venv/bin", "/venv/bin"))
    ]
    return os.pathsep.join([str(spec.venv_bin), *kept])


def platform_env(
    spec: AppSpec,
    *,
    port: int,
    database_url: str | None = None,
    redis_url: str | None = None,
    secret_key: str | None = None,
    dyno: str | None = "web.1",
    web_concurrency: int = 2,
    overrides: dict | None = None,
    config_vars: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment a process of `spec` gets: the one place that builds it.

    With `dyno` (the default, "web.1"), what Heroku gives a dyno: app.json's config vars and
    test settings, DYNO, WEB_CONCURRENCY, the plan's DATABASE_CONNECTION_LIMIT, SECRET_KEY (a
    fresh one unless given, as app.json's generator makes) and the Python buildpack's exports.
    With `dyno=None`, what `heroku local` gives: development mode, only PORT, the services'
    URLs and the venv. With `config_vars` (a stand-in Heroku app, harness/heroku.py), a dyno
    gets exactly those instead of app.json's, beside DYNO and the buildpack's exports, which a
    config var overrides. Either way the developer's own settings are scrubbed, and
    `overrides` (None deletes a variable) are applied last.
    """
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED and not key.startswith(SCRUBBED_PREFIXES)}
    if dyno is not None and config_vars is not None:
        env.update({"WEB_CONCURRENCY": str(web_concurrency), "DYNO": dyno, **BUILDPACK_EXPORTS, **config_vars})
    elif dyno is not None:
        env.update(spec.config_vars)
        env.update(spec.test_settings)
        env.update(
            {
                "WEB_CONCURRENCY": str(web_concurrency),
                "DYNO": dyno,
                "DATABASE_CONNECTION_LIMIT": str(CONNECTION_LIMIT),
                "SECRET_KEY": secret_key or secrets.token_urlsafe(48),
                **BUILDPACK_EXPORTS,
            }
        )
    env.update({"PATH": _clean_path(spec), "PORT": str(port), "PYTHONUNBUFFERED": "true", "LANG": "C.UTF-8"})
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


class ReleaseFailed(AssertionError):
    pass


def run_command(spec: AppSpec, command: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", "-c", command],
        cwd=spec.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_release(spec: AppSpec, env: dict[str, str]) -> float:
    """Run the Procfile's release line; return its duration."""
    command = spec.procfile.get("release")
    if command is None:
        return 0.0
    started = time.monotonic()
    result = run_command(spec, command, env)
    if result.returncode != 0:
        raise ReleaseFailed(f"release of {spec.name} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return time.monotonic() - started


_built: set[str] = set()


def build(spec: AppSpec, env: dict[str, str]) -> None:
    """The buildpack's post-install steps, once per app and session (one build per deploy)."""
    if spec.name in _built:
        return
    for command in spec.build_commands:
        result = run_command(spec, command, env)
        if result.returncode != 0:
            raise AssertionError(f"build step {command!r} failed:\n{result.stdout}\n{result.stderr}")
    _built.add(spec.name)


class RunningProcess:
    """One Procfile process in its own group, with its output in a file."""

    def __init__(self, spec: AppSpec, process_type: str, env: dict[str, str]):
        self.spec, self.process_type, self.env = spec, process_type, env
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.boot_seconds: float | None = None
        self.exit_seconds: float | None = None
        self._log = tempfile.NamedTemporaryFile(prefix=f"{spec.name}-{process_type}-", suffix=".log", delete=False)
        self._started = time.monotonic()
        self.proc = subprocess.Popen(
            ["sh", "-c", spec.procfile[process_type]],
            cwd=spec.path,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pgid = self.proc.pid

    def output(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def wait_for_port(self, limit: float = BOOT_LIMIT) -> float:
        deadline = self._started + limit
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.spec.name} {self.process_type} exited {self.proc.returncode} before binding PORT:\n{self.output()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    self.boot_seconds = time.monotonic() - self._started
                    return self.boot_seconds
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"{self.spec.name} did not bind PORT within {limit:.0f} s:\n{self.output()}")

    def group_alive(self) -> bool:
        self.proc.poll()  # reap sh, so a zombie leader does not count as alive
        try:
            os.killpg(self.pgid, 0)
        except ProcessLookupError:
            return False
        return True

    def signal(self, signum: int = signal.SIGTERM) -> None:
        """Signal every process of the group, as Heroku signals every process of a dyno."""
        try:
            os.killpg(self.pgid, signum)
        except ProcessLookupError:
            pass

    def wait_exit(self, limit: float = STOP_LIMIT, since: float | None = None) -> float:
        """Wait for the whole group to be gone; SIGKILL it after `limit`. Returns seconds taken."""
        since = since if since is not None else time.monotonic()
        while self.group_alive():
            if time.monotonic() - since > limit:
                self.signal(signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"{self.spec.name} {self.process_type} still running {limit:.0f} s after SIGTERM")
            time.sleep(0.02)
        self.exit_seconds = time.monotonic() - since
        return self.exit_seconds

    def stop(self, timeout: float = STOP_LIMIT) -> float:
        since = time.monotonic()
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout, since)

    def kill(self) -> None:
        if self.group_alive():
            self.signal(signal.SIGKILL)
            self.proc.wait()
        Path(self._log.name).unlink(missing_ok=True)


class Platform:
    """What a Heroku app has: config vars, a database, a Redis, and its processes."""

    def __init__(self, spec: AppSpec, database: Database | None, redis_url: str | None):
        self.spec, self.database, self.redis_url = spec, database, redis_url
        self.secret_key = secrets.token_urlsafe(48)  # app.json's "generator": "secret"
        self.processes: list[RunningProcess] = []

    def env(self, port: int, overrides: dict | None = None) -> dict[str, str]:
        return platform_env(
            self.spec,
            port=port,
            database_url=self.database.url if self.database else None,
            redis_url=self.redis_url,
            secret_key=self.secret_key,
            overrides=overrides,
        )

    def launch(
        self, env: dict | None = None, process_type: str = "web", release: bool = True, wait: bool = True
    ) -> RunningProcess:
        full_env = self.env(free_port(), env)
        build(self.spec, full_env)
        if release:
            run_release(self.spec, full_env)
        process = RunningProcess(self.spec, process_type, full_env)
        self.processes.append(process)
        if wait:
            process.wait_for_port()
        return process

    def release(self, env: dict | None = None) -> float:
        return run_release(self.spec, self.env(free_port(), env))

    def shutdown(self) -> None:
        for process in self.processes:
            if process.group_alive():
                try:
                    process.stop()
                except AssertionError:
                    pass
            process.kill()
