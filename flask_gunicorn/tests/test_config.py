import runpy
import secrets
from pathlib import Path

import pytest
from votr import config, create_app
from votr.database import engine_options

APP_ROOT = Path(__file__).resolve().parent.parent


def test_production_without_secret_key_refuses_to_start(monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    message = str(stopped.value.code)
    assert "SECRET_KEY" in message and "\n" not in message


def test_production_with_secret_key_starts(monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")
    secret = secrets.token_hex(16)
    monkeypatch.setenv("SECRET_KEY", secret)
    app = create_app()
    assert app.config["SECRET_KEY"] == secret
    assert app.debug is False


def test_heroku_ci_is_not_production(monkeypatch):
    monkeypatch.setenv("DYNO", "run.1")
    monkeypatch.setenv("CI", "true")
    assert config.load().production is False


def test_development_secret_is_random_not_hard_coded():
    assert config.load().secret_key != config.load().secret_key


@pytest.mark.parametrize(
    ("value", "debug"),
    [(None, False), ("", False), ("0", False), ("false", False), ("nonsense", False),
     ("1", True), ("true", True), ("YES", True), ("on", True)],
)
def test_debug_only_when_explicitly_true(monkeypatch, value, debug):
    if value is not None:
        monkeypatch.setenv("DEBUG", value)
    assert config.load().debug is debug


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_gets_the_psycopg3_driver(given, expected):
    assert config.sqlalchemy_url(given) == expected


def test_malformed_number_fails_loudly(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "two")
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        config.load()


@pytest.mark.parametrize(
    ("limit", "workers", "per_process"),
    [(20, 2, 8), (20, 4, 4), (20, 1, 16), (120, 4, 29), (5, 4, 1)],
)
def test_connection_budget(monkeypatch, limit, workers, per_process):
    monkeypatch.setenv("DATABASE_CONNECTION_LIMIT", str(limit))
    monkeypatch.setenv("WEB_CONCURRENCY", str(workers))
    settings = config.load()
    assert settings.connections_per_web_process == per_process
    if per_process > 1:
        total = per_process * workers + settings.reserved_connections
        assert total <= limit


def test_postgres_pool_is_bounded_and_fails_fast():
    options = engine_options("postgresql+psycopg://u@h/d", 8)
    assert options["pool_size"] == 8
    assert options["max_overflow"] == 0
    assert options["pool_timeout"] <= 1
    assert options["pool_pre_ping"] is True


def test_gunicorn_settings(monkeypatch):
    monkeypatch.setenv("PORT", "6123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = runpy.run_path(str(APP_ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == ["[::]:6123"]
    assert settings["workers"] == 3
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == (20 - 4) // 3
    assert settings["keepalive"] > 90  # the router's idle timeout
    assert settings["graceful_timeout"] < 30  # Heroku's SIGKILL
    assert settings["timeout"] < 30  # the router's request timeout
    assert settings["accesslog"] == "-"


def test_procfile_runs_migrations_in_release_only():
    lines = dict(
        line.split(":", 1) for line in (APP_ROOT / "Procfile").read_text().splitlines() if line
    )
    assert set(lines) == {"release", "web", "worker"}
    assert "db upgrade" in lines["release"]
    assert "upgrade" not in lines["web"] and "gunicorn" in lines["web"]
    assert "celery" in lines["worker"]
