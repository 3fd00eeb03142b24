import pytest
from starter.config import RESERVED_CONNECTIONS, ConfigError, Settings, budget, env_flag


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " On "])
def test_debug_flag_true_only_when_explicit(value):
    assert env_flag(value) is True


@pytest.mark.parametrize("value", [None, "", "0", "false", "False", "no", "off", "debug"])
def test_debug_flag_false_otherwise(value):
    # The article's bool(os.environ.get("DEBUG", "")) turned "False" into True.
    assert env_flag(value) is False


def test_budget_article_example():
    # 20 connections, 2 workers, 2 reserved: 9 each, 18 in all, 2 left for release + psql.
    assert budget(20, 2) == (2, 9)


@pytest.mark.parametrize(
    ("limit", "workers", "expected"),
    [(20, 1, (1, 18)), (20, 4, (4, 4)), (20, 8, (8, 2)), (20, 17, (17, 1)), (20, 33, (18, 1)), (120, 2, (2, 59))],
)
def test_budget_formula(limit, workers, expected):
    assert budget(limit, workers) == expected


@pytest.mark.parametrize("web_concurrency", [1, 2, 4, 8, 17, 33, 65])
@pytest.mark.parametrize("limit", [3, 20, 120, 500])
def test_budget_holds_for_every_web_concurrency_heroku_sets(limit, web_concurrency):
    # Heroku's buildpack sets 2, 4, 5, 9, 17 (Performance-L and -XL) or 33 (Performance-2XL); 8 and 65 bracket them.
    workers, per_worker = budget(limit, web_concurrency)
    assert 1 <= workers <= web_concurrency and per_worker >= 1
    assert workers * per_worker + RESERVED_CONNECTIONS <= limit


def test_clamped_workers_come_from_the_environment():
    settings = Settings.from_env({"WEB_CONCURRENCY": "33", "DATABASE_CONNECTION_LIMIT": "20"})
    assert (settings.web_concurrency, settings.workers, settings.pool_max_size) == (33, 18, 1)


def test_a_limit_without_room_for_the_reserved_connections_is_refused():
    with pytest.raises(ConfigError, match="DATABASE_CONNECTION_LIMIT"):
        Settings.from_env({"DATABASE_CONNECTION_LIMIT": "2"})


def test_defaults_are_safe():
    settings = Settings.from_env({})
    assert settings.debug is False
    assert settings.production is False
    assert settings.port == 8000
    assert settings.web_concurrency == 1
    assert settings.database_url is None
    assert settings.pool_max_size == 18


def test_production_requires_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY") as excinfo:
        Settings.from_env({"DYNO": "web.1"})
    assert "\n" not in str(excinfo.value)


def test_heroku_ci_is_not_production():
    settings = Settings.from_env({"DYNO": "web.1", "CI": "true"})
    assert settings.production is False


def test_production_with_secret_key():
    settings = Settings.from_env(
        {
            "DYNO": "web.1",
            "SECRET_KEY": "x" * 32,
            "PORT": "5000",
            "WEB_CONCURRENCY": "4",
            "DATABASE_CONNECTION_LIMIT": "20",
        }
    )
    assert (settings.production, settings.port, settings.web_concurrency, settings.pool_max_size) == (True, 5000, 4, 4)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "http"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("WEB_CONCURRENCY", "two"),
        ("DATABASE_CONNECTION_LIMIT", "-1"),
    ],
)
def test_bad_numbers_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_sanic_settings_for_the_router(app):
    config = app.config
    assert config.KEEP_ALIVE_TIMEOUT > 90
    assert config.GRACEFUL_SHUTDOWN_TIMEOUT < 30
    assert config.REQUEST_MAX_SIZE == 1024 * 1024
    assert config.PROXIES_COUNT == 1
    assert config.ACCESS_LOG is False  # the router logs every request
    assert config.AUTO_RELOAD is False


def test_sanic_env_vars_override(monkeypatch):
    from starter import create_app

    monkeypatch.setenv("SANIC_REQUEST_TIMEOUT", "30")
    assert create_app(Settings()).config.REQUEST_TIMEOUT == 30


def test_allowed_hosts_unset_is_any_host_on_heroku_and_loopback_elsewhere():
    # Heroku's router only routes the app's own domains to it (heroku/python-getting-started).
    assert Settings.from_env({"DYNO": "web.1", "SECRET_KEY": "x"}).allowed_hosts is None
    assert Settings.from_env({"DYNO": "web.1", "CI": "true"}).allowed_hosts == ("localhost", "127.0.0.1")
    listed = Settings.from_env({"DYNO": "web.1", "SECRET_KEY": "x", "ALLOWED_HOSTS": "Notes.example.org, .example.net"})
    assert listed.allowed_hosts == ("notes.example.org", ".example.net")


@pytest.mark.parametrize(
    ("allowed", "host", "status"),
    [
        (("localhost", "127.0.0.1"), "127.0.0.1:8000", 200),
        (("localhost", "127.0.0.1"), "evil.example", 400),
        ((".example.net",), "notes.example.net", 200),
        ((".example.net",), "badexample.net", 400),
        (None, "notes-0123456789ab.herokuapp.com", 200),
    ],
)
def test_a_host_outside_allowed_hosts_is_refused(make_app, allowed, host, status):
    _, response = make_app(Settings(allowed_hosts=allowed)).test_client.get("/json", headers={"Host": host})
    assert response.status == status
    assert host not in response.text
