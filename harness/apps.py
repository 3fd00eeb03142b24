"""Which apps exist, and what the platform needs to know about each.

An app is a top-level folder with a Procfile that has a `web:` line. Everything else the
platform learns from the app's own files (Procfile, app.json, manage.py), as Heroku does;
Nothing here names an app: what differs per app is in its folder, or derived from the list
of apps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
REDIS_BASE = "redis://127.0.0.1:6379"
# A spec outside the repository's list of apps (the benchmark's stripped configurations)
# shares the last of Redis's 16 default databases.
SPARE_REDIS_DB = 15

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
        """A Redis database number of its own (1 + the app's place in discovery order), so
        that apps sharing one Redis never see each other's keys."""
        names = [spec.name for spec in discover()]
        return 1 + names.index(self.name) if self.name in names else SPARE_REDIS_DB

    @property
    def redis_url(self) -> str:
        return f"{REDIS_BASE}/{self.redis_db}"

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
        return env

    @property
    def test_settings(self) -> dict[str, str]:
        """app.json's `environments.test.env` (Heroku CI's test environment): what the app
        needs where the platform talks plain HTTP to 127.0.0.1 instead of HTTPS to a public host."""
        declared = self.app_json.get("environments", {}).get("test", {}).get("env", {})
        return {name: str(value) for name, value in declared.items()}

    @property
    def addons(self) -> set[str]:
        """The add-on services app.json provisions (`heroku-redis`, `heroku-postgresql`), plan
        names dropped: what the app uses, as Heroku reads it."""
        names = set()
        for addon in self.app_json.get("addons", []):
            plan = addon if isinstance(addon, str) else addon.get("plan", "")
            names.add(plan.split(":")[0])
        return names

    @property
    def features(self) -> set[str]:
        """What the app has for the suite to check: its add-ons, and `json-writes` when its own
        openapi.yaml documents a route that takes a JSON request body (votr's polls, the notes)."""
        document = self.path / "openapi.yaml"
        paths = yaml.safe_load(document.read_text()).get("paths", {}) if document.exists() else {}
        writes = any(
            isinstance(operation, dict) and "requestBody" in operation
            for operations in paths.values()
            for operation in operations.values()
        )
        return self.addons | ({"json-writes"} if writes else set())

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
