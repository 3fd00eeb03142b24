import pytest
from starter.config import ConfigError, Settings, env_flag, pool_max_size


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " On "])
def test_debug_flag_true_only_when_explicit(value):
    assert env_flag(value) is True


@pytest.mark.parametrize("value", [None, "", "0", "false", "False", "no", "off", "debug"])
def test_debug_flag_false_otherwise(value):
    # The article's bool(os.environ.get("DEBUG", "")) turned "False" into True.
    assert env_flag(value) is False


def test_budget_article_example():
    # 20 connections, 2 workers, 2 reserved: 9 each, 18 in all, 2 left for release + psql.
    assert pool_max_size(20, 2) == 9
    assert 2 * pool_max_size(20, 2) + 2 <= 20


@pytest.mark.parametrize(
    ("limit", "workers", "expected"), [(20, 1, 18), (20, 4, 4), (20, 8, 2), (120, 2, 59), (3, 4, 1), (2, 2, 1)]
)
def test_budget_formula(limit, workers, expected):
    assert pool_max_size(limit, workers) == expected


def test_budget_never_exceeds_limit_when_it_can_fit():
    for limit in range(4, 200):
        for workers in range(1, (limit - 2) + 1):
            assert workers * pool_max_size(limit, workers) <= limit - 2


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
    assert config.ACCESS_LOG is True
    assert config.AUTO_RELOAD is False


def test_sanic_env_vars_override(monkeypatch):
    from starter import create_app

    monkeypatch.setenv("SANIC_REQUEST_TIMEOUT", "30")
    assert create_app(Settings()).config.REQUEST_TIMEOUT == 30
