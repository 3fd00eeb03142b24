"""What gets benchmarked: an app (booted exactly as the shared suite boots it), the same app
under its second server (bench/servers.py, from a bench-only venv), its stripped
configuration (bench/stripped/<app>/, run with the app's own venv), and nginx `return 200`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import servers
from harness.apps import AppSpec, discover  # noqa: F401 - re-exported for bench.cli
from harness.platform import Platform, free_port
from harness.postgres import CONNECTION_LIMIT, Database  # noqa: F401 - re-exported for bench.cli

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

STRIPPED = BENCH / "stripped"
FULL_ROUTES = ["/plaintext", "/json", "/db", "/queries?queries=20", "/fortunes", "/updates?queries=20"]
# The server-vs-server comparison (issue 13); /queries and /updates on request (--routes).
DEFAULT_ROUTES = ["/plaintext", "/json", "/db", "/fortunes"]
ACCESS_LOG_ROUTE = "/json"
STRIPPED_ROUTES = ["/plaintext", "/json", "/db"]
NGINX_ROUTES = ["/plaintext"]

# Which distributions name an app's server and framework (read from the app's own venv).
PACKAGES = {
    "flask_gunicorn": ["gunicorn", "flask", "sqlalchemy", "psycopg"],
    "sanic_app": ["sanic", "uvloop", "httptools", "asyncpg"],
    "django_channels": ["daphne", "django", "channels", "twisted", "psycopg"],
    "uwsgi_werkzeug": ["uwsgi", "werkzeug", "psycopg"],
}
SECOND_PACKAGES = {
    "flask_gunicorn": ["uwsgi", "flask"],
    "sanic_app": ["uvicorn", "sanic"],
    "django_channels": ["gunicorn", "uvicorn", "uvicorn_worker", "django", "channels"],
    "uwsgi_werkzeug": ["gunicorn", "werkzeug"],
}


@dataclass(frozen=True)
class AccessLogSwitch:
    """How to turn an app's own per-request log on and off without touching its folder.

    `on` / `off` are config vars; `off_drop` is a part of the Procfile line to leave out
    (Daphne's log is a command-line flag only).
    """

    how: str
    on: dict
    off: dict
    off_drop: str | None = None


ACCESS_LOG = {
    "sanic_app": AccessLogSwitch(
        "SANIC_ACCESS_LOG=true / false (Sanic reads SANIC_<setting>)", {"SANIC_ACCESS_LOG": "true"}, {"SANIC_ACCESS_LOG": "false"}
    ),
    "uwsgi_werkzeug": AccessLogSwitch(
        "UWSGI_DISABLE_LOGGING=false / true (uWSGI reads UWSGI_<option>)",
        {"UWSGI_DISABLE_LOGGING": "false"},
        {"UWSGI_DISABLE_LOGGING": "true"},
    ),
    # gunicorn has no command-line way back to `accesslog = None` once gunicorn.conf.py sets it:
    # "off" writes the formatted lines to /dev/null, so it measures the write, not the formatting.
    "flask_gunicorn": AccessLogSwitch(
        "GUNICORN_CMD_ARGS='--access-logfile -' / '--access-logfile /dev/null'",
        {"GUNICORN_CMD_ARGS": "--access-logfile -"},
        {"GUNICORN_CMD_ARGS": "--access-logfile /dev/null"},
    ),
    "django_channels": AccessLogSwitch("the Procfile's `--access-log -` / without it", {}, {}, off_drop="--access-log -"),
}


@dataclass(frozen=True)
class StrippedSpec(AppSpec):
    """A stripped configuration: its own folder and command, the app's venv."""

    app_path: Path | None = None

    @property
    def venv_bin(self) -> Path:
        return self.app_path / ".venv" / "bin"


@dataclass(frozen=True)
class ServerSpec(AppSpec):
    """The app's own folder, name and config vars, another web command and venv."""

    venv: Path | None = None

    @property
    def venv_bin(self) -> Path:
        return (self.venv or self.path / ".venv") / "bin"


def second_spec(app: AppSpec, workers: int, log=print) -> tuple[ServerSpec, servers.Server] | None:
    server = servers.SECOND_SERVERS.get(app.name)
    if server is None:
        return None
    venv = servers.ensure_venv(app.path, server, log)
    procfile = {"web": servers.command(server, workers, CONNECTION_LIMIT)}
    return ServerSpec(name=app.name, path=app.path, procfile=procfile, app_json=app.app_json, venv=venv), server


def command_spec(app: AppSpec, web: str) -> ServerSpec:
    """The app with another web line (e.g. the Procfile's without its access-log flag)."""
    return ServerSpec(name=app.name, path=app.path, procfile={"web": web}, app_json=app.app_json)


def stripped_spec(app: AppSpec) -> StrippedSpec | None:
    folder = STRIPPED / app.name
    command = folder / "command"
    if not command.exists():
        return None
    return StrippedSpec(
        name=f"stripped-{app.name}",
        path=folder,
        procfile={"web": command.read_text().strip()},
        app_json={},
        app_path=app.path,
    )


def versions(app: AppSpec, venv: Path | None = None, wanted: list[str] | None = None) -> dict[str, str]:
    """Python and the server/framework versions installed in the app's (or the given) venv."""
    found: dict[str, str] = {}
    venv = venv or app.path / ".venv"
    cfg = venv / "pyvenv.cfg"
    if cfg.exists():
        for line in cfg.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version", "version_info"):
                found["python"] = value.strip()
    wanted = wanted if wanted is not None else PACKAGES.get(app.name, [])
    for dist in sorted(venv.glob("lib/python*/site-packages/*.dist-info")):
        name, _, version = dist.name[: -len(".dist-info")].rpartition("-")
        if name.lower().replace("-", "_") in {w.replace("-", "_") for w in wanted}:
            found[name.lower()] = version
    return found


def launch_app(platform: Platform, workers: int):
    """The app as the suite runs it: build, release, then the Procfile web line."""
    return platform.launch(env={"WEB_CONCURRENCY": workers})


def launch_seeded(platform: Platform, workers: int, env: dict | None = None):
    """Same platform environment, no release: the app's own release already migrated and
    seeded this target's database (bench/cli.py runs it with the app's venv)."""
    return platform.launch(env={"WEB_CONCURRENCY": workers, **(env or {})}, release=False)


def launch_stripped(platform: Platform, workers: int, feature: str | None = None):
    """As launch_seeded, without the buildpack's GUNICORN_CMD_ARGS access log: the barest setup,
    or with one of the app's features turned on (FEATURES)."""
    return launch_seeded(platform, workers, {"GUNICORN_CMD_ARGS": None, "BENCH_FEATURE": feature})


# The app's production features, each turned on alone in its stripped reference (BENCH_FEATURE,
# read by bench/stripped/<app>/) and timed in turns with the bare reference on FEATURE_ROUTES:
# what each one costs. Name -> what it turns on, with the app's own code.
FEATURE_ROUTES = ["/json", "/db"]
FEATURES = {
    "flask_gunicorn": {
        "access log": "gunicorn.conf.py's accesslog and access_log_format",
        "cookie session": "SECRET_KEY set: Flask's signed-cookie session opened on every request (the poll pages use it)",
        "Host check": "Flask's TRUSTED_HOSTS, as votr/config.py sets it from ALLOWED_HOSTS (off Heroku: localhost, 127.0.0.1)",
        "security headers": "votr.errors.security_headers (after_request)",
        "request checks": "votr.errors.check_request (before_request: body size, Host present)",
        "error handling": "votr.errors.register: the request checks, security headers and error handlers",
        "pool pre-ping": "SQLAlchemy's pool_pre_ping (a round trip at each checkout)",
        "engine options": "votr.models.engine_options: pre-ping, timeouts, recycle, no prepared statements",
    },
    "django_channels": {
        "Date header": "chatsite.middleware.date_header (async)",
        "proxy header": "contract.proxy.rightmost_forwarded_proto (async)",
        "SecurityMiddleware": "Django's, alone: async mode, a thread crossing per hook",
        "CommonMiddleware": "Django's Host check (ALLOWED_HOSTS), alone: async mode",
        "CsrfViewMiddleware": "Django's, alone: async mode",
        "XFrameOptionsMiddleware": "Django's, alone: async mode",
        "WhiteNoise": "sync-only: Django runs the request's middleware in a thread",
        "the app's middleware": "chatsite/settings.py MIDDLEWARE, in its order (WhiteNoise last: one thread crossing)",
        "the app's views": "contract.views: async off the ORM, the ORM view sync with its 503 handling",
    },
}


NGINX_CONF = """\
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type text/plain;
            return 200 "Hello, World!";
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/opt/homebrew/bin/nginx") if os.access(p, os.X_OK)),
        None,
    )


class Nginx:
    """nginx in the foreground, unprivileged, on a loopback port, with its own temp prefix."""

    def __init__(self, binary: str, workers: int):
        self.prefix = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = self.prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(workers=workers, prefix=self.prefix, port=self.port))
        self._log = open(self.prefix / "stdout.log", "wb")
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-e", str(self.prefix / "error.log"), "-c", str(conf), "-g", "daemon off;"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.pgid = self.proc.pid
        deadline = started + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited {self.proc.returncode}: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not bind within 10 s: {self.output()}") from None
                time.sleep(0.05)
        self.boot_seconds = time.monotonic() - started

    def output(self) -> str:
        text = ""
        for name in ("stdout.log", "error.log"):
            path = self.prefix / name
            if path.exists():
                text += path.read_text(errors="replace")
        return text

    def stop(self) -> float:
        since = time.monotonic()
        try:
            os.killpg(self.pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.pgid, signal.SIGKILL)
            self.proc.wait()
        return time.monotonic() - since

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.stop()
        self._log.close()
        shutil.rmtree(self.prefix, ignore_errors=True)
