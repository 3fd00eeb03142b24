"""Which apps exist, and what the platform needs to know about each.

An app is a top-level folder with a Procfile that has a `web:` line. Everything else the
platform learns from the app's own files (Procfile, app.json, manage.py), as Heroku does;
the little it cannot learn is in PLATFORM_SETTINGS, with the reason beside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Each app gets a Redis db number of its own, so that apps sharing one Redis never see
# each other's keys (the suite flushes only that number).
REDIS_DB = {"flask_gunicorn": 1, "sanic_app": 2, "django_channels": 3, "uwsgi_werkzeug": 4}

# Config vars an operator would set with `heroku config:set` for the suite's situation:
# it talks plain HTTP to 127.0.0.1, where Heroku's router would speak HTTPS to a public host.
PLATFORM_SETTINGS = {
    "django_channels": {
        "ALLOWED_HOSTS": "127.0.0.1,localhost,[::1]",
        "SECURE_SSL_REDIRECT": "false",
    },
}

PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


def parse_procfile(text: str) -> dict[str, str]:
    processes = {}
    for line in text.splitlines():
        match = PROCFILE_LINE.match(line.strip())
        if match and not line.lstrip().startswith("#"):
            processes[match.group(1)] = match.group(2).strip()
    return processes


@dataclass(frozen=True)
class AppSpec:
    name: str
    path: Path
    procfile: dict[str, str] = field(hash=False)
    app_json: dict = field(hash=False)

    @property
    def redis_db(self) -> int:
        return REDIS_DB.get(self.name, 15)

    @property
    def venv_bin(self) -> Path:
        return self.path / ".venv" / "bin"

    @property
    def config_vars(self) -> dict[str, str]:
        """app.json `env` entries with a value, as Heroku sets them on a new app."""
        env = {}
        for name, entry in self.app_json.get("env", {}).items():
            if isinstance(entry, str):
                env[name] = entry
            elif isinstance(entry, dict) and "value" in entry:
                env[name] = str(entry["value"])
        env.update(PLATFORM_SETTINGS.get(self.name, {}))
        return env

    @property
    def build_commands(self) -> list[str]:
        """What Heroku's Python buildpack runs after installing requirements."""
        if (self.path / "manage.py").exists():
            return ["python manage.py collectstatic --noinput"]
        return []

    def __str__(self) -> str:
        return self.name


def load(path: Path) -> AppSpec:
    app_json_path = path / "app.json"
    app_json = json.loads(app_json_path.read_text()) if app_json_path.exists() else {}
    return AppSpec(
        name=path.name,
        path=path,
        procfile=parse_procfile((path / "Procfile").read_text()),
        app_json=app_json,
    )


def discover() -> list[AppSpec]:
    specs = []
    for procfile in sorted(REPO.glob("*/Procfile")):
        spec = load(procfile.parent)
        if "web" in spec.procfile:
            specs.append(spec)
    return specs
