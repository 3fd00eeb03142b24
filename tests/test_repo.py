"""Each app folder is a deployable repository root, and the repo's own files agree."""

from __future__ import annotations

import json
import re

import pytest

from harness.apps import REPO, discover

REQUIRED_FILES = ["Procfile", ".python-version", "requirements.txt", "app.json", ".env.example", "README.md"]
APPS = [spec.name for spec in discover()]


@pytest.fixture(params=APPS)
def app(request):
    return next(spec for spec in discover() if spec.name == request.param)


def test_there_are_apps():
    assert APPS, "no app folder with a Procfile web line"


def test_app_folder_is_a_repository_root(app):
    missing = [name for name in REQUIRED_FILES if not (app.path / name).exists()]
    assert not missing
    assert not (app.path / "runtime.txt").exists(), "runtime.txt is deprecated and wins over .python-version"


def test_python_is_pinned_to_a_version_the_suite_runs(app):
    pinned = (app.path / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", pinned), pinned
    venv_python = app.path / ".venv" / "pyvenv.cfg"
    if venv_python.exists():
        # `python -m venv` writes `version`, uv (make install) and virtualenv write `version_info`.
        version = re.search(r"^version(?:_info)?\s*=\s*(\S+)", venv_python.read_text(), re.M).group(1)
        assert version.startswith(pinned + "."), f"the app's venv runs {version}, not the pinned {pinned}"


def test_requirements_are_exact_pins(app):
    for line in (app.path / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            assert "==" in line, f"unpinned requirement: {line}"


def test_procfile_migrates_in_release_not_in_web(app):
    assert "release" in app.procfile
    assert not re.search(r"migrat|upgrade|&&", app.procfile["web"]), app.procfile["web"]


def test_app_json_generates_the_secret(app):
    manifest = json.loads((app.path / "app.json").read_text())
    assert manifest["env"]["SECRET_KEY"].get("generator") == "secret"
    assert "value" not in manifest["env"]["SECRET_KEY"]
    assert set(manifest.get("formation", {})) >= {"web"}


def test_env_example_names_every_contract_variable(app):
    text = (app.path / ".env.example").read_text()
    for name in ["PORT", "DATABASE_URL", "SECRET_KEY", "DATABASE_CONNECTION_LIMIT"]:
        assert re.search(rf"^#?\s*{name}=", text, re.M), f".env.example does not mention {name}"


def test_readme_has_the_env_table_and_the_changes(app):
    text = (app.path / "README.md").read_text()
    assert re.search(r"\|\s*variable\s*\|.*development default.*\|.*production default", text, re.I)
    assert re.search(r"what changed since the article", text, re.I)


def test_apps_import_nothing_from_each_other_or_the_top_level(app):
    others = [name for name in APPS if name != app.name] + ["tests", "harness", "bench"]
    pattern = re.compile(rf"^\s*(from|import)\s+({'|'.join(others)})\b", re.M)
    for source in app.path.rglob("*.py"):
        if ".venv" in source.parts:
            continue
        assert not pattern.search(source.read_text(errors="replace")), f"{source} imports from outside its app"


def test_top_level_readme_links_every_app():
    text = (REPO / "README.md").read_text()
    for name in APPS:
        assert f"{name}/README.md" in text or f"({name}/)" in text, f"README does not link {name}"
    assert "make run" in text and "make test" in text
