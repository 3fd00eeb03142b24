import runpy
import secrets
from pathlib import Path

import pytest
from votr import config, create_app
from votr.models import engine_options

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
    assert config.load().allowed_hosts == config.LOCAL_HOSTS


def test_development_secret_is_random_not_hard_coded():
    assert config.load().secret_key != config.load().secret_key


@pytest.mark.parametrize(
    ("value", "debug"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("nonsense", False),
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
    ],
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


POSTGRES = "postgres://votr@127.0.0.1:5432/votr"


@pytest.mark.parametrize("workers", [1, 2, 4, 8, 17])
def test_connection_budget_holds_for_every_web_concurrency_heroku_sets(monkeypatch, workers):
    # 1-8: Heroku's Basic to Performance-M dynos; 17: Performance-L.
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setenv("WEB_CONCURRENCY", str(workers))
    per_process = config.load().connections_per_web_process
    assert per_process >= 1
    worker_release_psql = config.WORKER_CONNECTIONS + config.RELEASE_AND_PSQL_CONNECTIONS
    assert workers * per_process + worker_release_psql <= config.DEFAULT_CONNECTION_LIMIT


@pytest.mark.parametrize(("limit", "workers", "per_process"), [(20, 2, 8), (20, 4, 4), (120, 4, 29)])
def test_connection_budget_formula(monkeypatch, limit, workers, per_process):
    monkeypatch.setenv("DATABASE_CONNECTION_LIMIT", str(limit))
    monkeypatch.setenv("WEB_CONCURRENCY", str(workers))
    assert config.load().connections_per_web_process == per_process


def test_budget_that_cannot_hold_refuses_to_start_with_one_line(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", POSTGRES)
    monkeypatch.setenv("WEB_CONCURRENCY", "18")
    with pytest.raises(SystemExit) as stopped:
        create_app()
    message = str(stopped.value.code)
    assert "WEB_CONCURRENCY=18" in message and "\n" not in message


def test_postgres_pool_is_bounded_and_fails_fast():
    options = engine_options("postgresql+psycopg://u@h/d", 8)
    assert options["pool_size"] == 8
    assert options["max_overflow"] == 0
    assert options["pool_pre_ping"] is True
    # Both bounds inside the contract's 5 s for a dead or hung database.
    assert options["pool_timeout"] + options["connect_args"]["connect_timeout"] < 5


def test_gunicorn_settings(monkeypatch):
    monkeypatch.setenv("PORT", "6123")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    settings = runpy.run_path(str(APP_ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == ["[::]:6123"]
    assert settings["workers"] == 3
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] == (20 - 3) // 3
    assert settings["keepalive"] > 90  # the router's idle timeout
    assert settings["graceful_timeout"] < 30  # Heroku's SIGKILL
    assert settings["timeout"] < 30  # the router's request timeout
    assert settings["accesslog"] == "-"


def test_procfile_runs_migrations_in_release_only():
    lines = dict(line.split(":", 1) for line in (APP_ROOT / "Procfile").read_text().splitlines() if line)
    assert set(lines) == {"release", "web", "worker"}
    assert "db upgrade" in lines["release"]
    assert "upgrade" not in lines["web"] and "gunicorn" in lines["web"]
    assert "celery" in lines["worker"]


def test_on_heroku_any_host_is_answered(monkeypatch):
    # Heroku's router only routes the app's own domains to it: new apps' random suffix
    # and custom domains work without a config var.
    monkeypatch.setenv("DYNO", "web.1")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(16))
    client = create_app().test_client()
    for host in ("votr-0123456789ab.herokuapp.com", "polls.example.org"):
        assert client.get("/json", headers={"Host": host}).status_code == 200


def test_off_heroku_an_unknown_host_is_refused():
    client = create_app().test_client()
    refused = client.get("/other", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert "evil.example" not in refused.headers.get("Location", "")
    for host in ("127.0.0.1:5000", "localhost:5000"):
        assert client.get("/json", headers={"Host": host}).status_code == 200


def test_allowed_hosts_from_the_environment(monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(16))
    monkeypatch.setenv("ALLOWED_HOSTS", "polls.example.org, .example.net")
    client = create_app().test_client()
    assert client.get("/json", headers={"Host": "polls.example.org"}).status_code == 200
    assert client.get("/json", headers={"Host": "a.example.net"}).status_code == 200
    assert client.get("/json", headers={"Host": "votr-0123456789ab.herokuapp.com"}).status_code == 400
