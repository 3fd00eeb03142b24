"""The second server of each app: same app code, same WEB_CONCURRENCY, another server.

Each entry is one command line (run under `sh -c` in the app folder, like a Procfile `web:`
line) and the exact pins of the server it needs. The server is installed into a bench-only
virtualenv, `bench/.venvs/<app>` (git-ignored), built from the app's own requirements.txt
plus these pins, so the app folders and their Procfiles stay as they are.

Each command keeps what a dyno needs and nothing the Procfile's server does not also do:
bind [::]:$PORT, WEB_CONCURRENCY processes (the server reads it, or it is passed on), the
same threads per process as the app's own server, a graceful stop inside Heroku's 30 s, and
each server's default request log (what it does on a dyno unless told otherwise).
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / ".venvs"
# harness.postgres.CONNECTION_LIMIT (20) minus release + one psql session, as in the contract.
RESERVED_CONNECTIONS = 2


@dataclass(frozen=True)
class Server:
    app: str
    label: str  # what the table calls it
    command: str
    pins: list[str]
    # Extra config vars, formatted with `pool` = the per-process share of the connection budget.
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""


SECOND_SERVERS = {
    "django_channels": Server(
        app="django_channels",
        label="Uvicorn",  # its worker class under gunicorn
        # gunicorn reads WEB_CONCURRENCY itself; uvicorn serves HTTP and the websockets.
        # --no-control-socket: gunicorn 25+ opens one control socket per user at a fixed path,
        # two servers on one machine would fight over it. --graceful-timeout 20: inside 30 s.
        command=(
            "gunicorn --worker-class uvicorn_worker.UvicornWorker --bind [::]:$PORT"
            " --no-control-socket --graceful-timeout 20 chatsite.asgi:application"
        ),
        pins=[
            "gunicorn==27.0.1",
            "uvicorn==0.54.0",
            "uvicorn-worker==0.4.0",
            "uvloop==0.23.0",
            "httptools==0.9.0",
            "websockets==17.4",
            "h11==0.16.0",
            "click==8.5.1",
        ],
        # Daphne is one process holding the whole budget; N worker processes share it, as the
        # settings say for N dynos ("Set DATABASE_POOL_SIZE to (limit - 2) // N").
        env={"DATABASE_POOL_SIZE": "{pool}"},
    ),
    "flask_gunicorn": Server(
        app="flask_gunicorn",
        label="uWSGI",
        # The options of uwsgi_werkzeug/uwsgi.ini that a dyno needs (uWSGI's HTTP router with
        # keep-alive, listen 1024, graceful SIGTERM), with the thread count of flask_gunicorn's
        # gunicorn.conf.py (one thread per pooled connection, (20 - 4) // N).
        command=(
            "uwsgi --strict --need-app --master --http [::]:$PORT --http-keepalive --http-timeout 30"
            " --listen 1024 --buffer-size 32768 --http-buffer-size 32768 --http-server-name-as-http-host true"
            " --module wsgi:application --processes $WEB_CONCURRENCY --threads {threads} --enable-threads"
            " --lazy-apps --single-interpreter --die-on-term --hook-asap 'unix_signal:15 end_me'"
            " --hook-master-start 'unix_signal:15 gracefully_kill_them_all'"
            " --hook-accepting 'unix_signal:15 gracefully_kill' --no-orphans --worker-reload-mercy 25"
            " --ignore-sigpipe --ignore-write-errors --disable-write-exception --log-master"
        ),
        pins=["uWSGI==2.0.31"],
    ),
    "uwsgi_werkzeug": Server(
        app="uwsgi_werkzeug",
        label="Gunicorn",  # gthread
        # gunicorn reads WEB_CONCURRENCY itself; 4 threads as uwsgi.ini; keep-alive 95 s as
        # flask_gunicorn's gunicorn.conf.py (longer than the router's 90 s idle timeout).
        command=(
            "gunicorn --worker-class gthread --threads 4 --bind [::]:$PORT --no-control-socket"
            " --keep-alive 95 --graceful-timeout 20 webapp.wsgi:application"
        ),
        pins=["gunicorn==27.0.1", "packaging==26.4"],
    ),
    "sanic_app": Server(
        app="sanic_app",
        label="Uvicorn",  # Sanic's ASGI mode
        # Sanic's ASGI mode: uvicorn's lifespan runs the app's before/after_server_* listeners.
        command=(
            "uvicorn --host :: --port $PORT --workers $WEB_CONCURRENCY --timeout-keep-alive 95"
            " --timeout-graceful-shutdown 20 web:app"
        ),
        pins=["uvicorn==0.54.0", "h11==0.16.0", "click==8.5.1"],
    ),
}


def threads_for(app: str, workers: int, limit: int) -> int:
    """flask_gunicorn's own rule: (limit - 4 reserved) // processes threads per process."""
    return max(1, (limit - 4) // workers)


def command(server: Server, workers: int, limit: int) -> str:
    return server.command.replace("{threads}", str(threads_for(server.app, workers, limit)))


def env(server: Server, workers: int, limit: int) -> dict[str, str]:
    pool = max(1, (limit - RESERVED_CONNECTIONS) // workers)
    return {key: value.format(pool=pool) for key, value in server.env.items()}


def venv_path(app: str) -> Path:
    return VENVS / app


def _stamp(app_path: Path, server: Server) -> str:
    text = (app_path / "requirements.txt").read_text() + "\n".join(server.pins)
    return hashlib.sha256(text.encode()).hexdigest()


def ensure_venv(app_path: Path, server: Server, log=print) -> Path:
    """bench/.venvs/<app>: the app's requirements plus the server, rebuilt when either changes."""
    venv = venv_path(server.app)
    stamp_file = venv / ".bench-installed"
    stamp = _stamp(app_path, server)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv
    log(f"  building {venv.relative_to(BENCH.parent)}: {app_path.name}/requirements.txt + {' '.join(server.pins)}")
    # The app venv's interpreter: the Python of the app's .python-version.
    python = app_path / ".venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-qq", "-r", str(app_path / "requirements.txt"), *server.pins], check=True
    )
    stamp_file.write_text(stamp)
    return venv
