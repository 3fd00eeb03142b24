"""Configuration from the environment, and the refusal to run production without a secret."""

import subprocess
import sys
from pathlib import Path

import pytest
from webapp.config import ConfigError, load_config

APP_DIR = Path(__file__).resolve().parents[1]


def test_development_runs_without_a_secret_and_without_debug():
    config = load_config({})
    assert config.secret_key
    assert not config.production
    assert not config.debug
    assert config.database_url is None


def test_production_without_secret_key_is_an_error_naming_it():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({"DYNO": "web.1"})


def test_heroku_ci_is_not_production():
    assert not load_config({"DYNO": "web.1", "CI": "true"}).production


@pytest.mark.parametrize(
    "value,expected",
    [("1", True), ("TRUE", True), ("on", True), ("yes", True), ("0", False), ("false", False), ("", False), ("debug", False)],
)
def test_debug_only_when_explicitly_true(value, expected):
    assert load_config({"DEBUG": value}).debug is expected


@pytest.mark.parametrize("workers", [1, 2, 4, 8, 17])
def test_the_connection_budget_holds_for_every_buildpack_concurrency(workers):
    # Heroku's buildpack sets WEB_CONCURRENCY from the dyno size: 17 on Performance-L.
    config = load_config({"DATABASE_URL": "postgres://x@h/d", "DATABASE_CONNECTION_LIMIT": "20", "WEB_CONCURRENCY": str(workers)})
    assert config.db_pool_max_size >= 1
    assert config.db_pool_max_size * workers + 2 <= 20


@pytest.mark.parametrize("limit,workers,per_worker", [("20", "2", 9), ("20", "4", 4), ("120", "2", 59)])
def test_pool_size_is_the_connection_budget(limit, workers, per_worker):
    config = load_config({"DATABASE_CONNECTION_LIMIT": limit, "WEB_CONCURRENCY": workers})
    assert config.db_pool_max_size == per_worker


def test_more_workers_than_the_budget_refuse_to_start_with_the_reason():
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY=19 .* DATABASE_CONNECTION_LIMIT is 20"):
        load_config({"DATABASE_URL": "postgres://x@h/d", "WEB_CONCURRENCY": "19"})
    # Without a database there is no budget to keep.
    assert load_config({"WEB_CONCURRENCY": "19"}).web_concurrency == 19


@pytest.mark.parametrize("name,value", [("WEB_CONCURRENCY", "two"), ("DATABASE_CONNECTION_LIMIT", "0")])
def test_bad_numbers_are_named(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


def test_timeouts_fit_the_five_second_outage_answer():
    config = load_config({})
    assert config.db_connect_timeout < config.db_pool_timeout < 5
    # Long enough to wait out a lock held during a deploy, shorter than harakiri (25 s).
    assert 10_000 <= config.db_statement_timeout_ms < 25_000


def run_preflight(environ):
    return subprocess.run(
        [sys.executable, "-c", "import webapp.preflight"],
        cwd=APP_DIR,
        env={"PATH": "/usr/bin:/bin", **environ},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_preflight_stops_production_without_secret_in_one_line():
    result = run_preflight({"DYNO": "web.1"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0]
    assert "Traceback" not in result.stderr


def test_preflight_passes_with_a_secret():
    assert run_preflight({"DYNO": "web.1", "SECRET_KEY": "x"}).returncode == 0


def test_uwsgi_ini_keeps_the_production_settings():
    ini = (APP_DIR / "uwsgi.ini").read_text()
    options = {}
    for line in ini.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            options.setdefault(key.strip(), []).append(value.strip())
    # uWSGI's HTTP router on PORT, 5000 when PORT is unset (never a random port).
    assert options["http"] == ["[::]:%(port)"]
    assert "if-not-env = PORT\nset-placeholder = port=5000" in ini
    assert "http-socket" not in options
    assert int(options["listen"][0]) >= 1024
    assert options["http-keepalive"] == ["1"]
    assert options["http-var"] == ["SERVER_PROTOCOL=HTTP/1.1"]  # unbit/uwsgi#1845
    assert "post-buffering" not in options  # it would hold a worker thread per slow upload
    for flag in ["strict", "need-app", "master", "lazy-apps", "die-on-term", "memory-report", "log-master"]:
        assert options[flag] == ["true"], flag
    assert int(options["harakiri"][0]) < 30
    assert int(options["worker-reload-mercy"][0]) < 30
    assert int(options["buffer-size"][0]) >= 32768
    assert options["hook-master-start"] == ["unix_signal:15 gracefully_kill_them_all"]
    assert options["hook-accepting"] == ["unix_signal:15 gracefully_kill"]
    assert {"X-Content-Type-Options: nosniff", "X-Frame-Options: DENY"} <= set(options["add-header"])
    # The stats server only on loopback, only when asked for.
    assert options["stats"] == ["127.0.0.1:%(_)"]
    assert "if-env = STATS_PORT\nstats = 127.0.0.1:%(_)" in ini


def test_allowed_hosts_unset_is_any_host_on_heroku_and_loopback_elsewhere():
    # Heroku's router only routes the app's own domains to it (heroku/python-getting-started).
    assert load_config({"DYNO": "web.1", "SECRET_KEY": "x"}).allowed_hosts is None
    assert load_config({"DYNO": "web.1", "CI": "true"}).allowed_hosts == ("localhost", "127.0.0.1")
    listed = load_config({"DYNO": "web.1", "SECRET_KEY": "x", "ALLOWED_HOSTS": "app.example.org, .example.net"})
    assert listed.allowed_hosts == ("app.example.org", ".example.net")
