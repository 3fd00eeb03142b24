"""Settings as the platform sees them: each case runs Django in a fresh process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
PLATFORM_VARIABLES = (
    "DYNO",
    "CI",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "DATABASE_CONNECTION_LIMIT",
    "DATABASE_POOL_SIZE",
    "SECURE_SSL_REDIRECT",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_HSTS_SECONDS",
    "WEB_CONCURRENCY",
)
PRODUCTION = {
    "DYNO": "web.1",
    "SECRET_KEY": secrets.token_urlsafe(50),
}


def run(args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in PLATFORM_VARIABLES}
    clean["DJANGO_SETTINGS_MODULE"] = "chatsite.settings"
    return subprocess.run([sys.executable, *args], cwd=APP_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=60)


def settings_json(**env):
    code = (
        "import json; import chatsite.settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'db': s.DATABASES['default'], "
        "'layers': s.CHANNEL_LAYERS, 'ssl_redirect': s.SECURE_SSL_REDIRECT}, default=str))"
    )
    result = run(["-c", code], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_secret_key_exits_with_one_line():
    env = {**PRODUCTION}
    del env["SECRET_KEY"]
    result = run(["-c", "import chatsite.settings"], **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_on_heroku_any_host_unless_allowed_hosts_lists_them():
    # Heroku's router only routes the app's own domains to it (heroku/python-getting-started).
    assert settings_json(**PRODUCTION)["hosts"] == ["*"]
    listed = settings_json(**PRODUCTION, ALLOWED_HOSTS="chat.example.org, .example.net")
    assert listed["hosts"] == ["chat.example.org", ".example.net"]
    assert settings_json(**PRODUCTION, CI="true")["hosts"] == ["localhost", "127.0.0.1"]


def test_ci_is_not_production_even_on_a_dyno():
    assert run(["-c", "import chatsite.settings"], DYNO="web.1", CI="true").returncode == 0


def test_deploy_checks_pass_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_missing_migrations():
    result = run(["manage.py", "makemigrations", "--check", "--dry-run"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_defaults():
    values = settings_json()
    assert values["debug"] is False
    assert values["hosts"] == ["localhost", "127.0.0.1"]
    assert values["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["layers"]["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["ssl_redirect"] is False


def test_debug_only_when_explicitly_true():
    assert settings_json(DEBUG="false")["debug"] is False
    assert settings_json(DEBUG="yes")["debug"] is True


def test_production_database_pool_fits_the_connection_budget():
    values = settings_json(**PRODUCTION, DATABASE_URL="postgres://u:p@db.example:5432/d", DATABASE_CONNECTION_LIMIT="20")
    db = values["db"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["connect_timeout"] == 2  # libpq's floor
    pool = db["OPTIONS"]["pool"]
    # A dead database answers 503 within the contract's 5 s: connect attempts give up
    # after 2 s, a request waits for a pooled connection at most 3 s.
    assert pool["max_size"] == 18 and pool["min_size"] == 0 and pool["timeout"] <= 4
    assert values["ssl_redirect"] is True
    assert values["hosts"] == ["*"]


def test_rediss_skips_certificate_verification_and_redis_does_not():
    tls = settings_json(REDIS_URL="rediss://:pw@redis.example:6380")["layers"]["default"]
    assert tls["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert tls["CONFIG"]["hosts"] == [{"address": "rediss://:pw@redis.example:6380", "socket_timeout": 10, "ssl_cert_reqs": None}]
    plain = settings_json(REDIS_URL="redis://127.0.0.1:6379/3")["layers"]["default"]
    assert plain["CONFIG"]["hosts"] == [{"address": "redis://127.0.0.1:6379/3", "socket_timeout": 10}]


@pytest.mark.parametrize("web_concurrency", ["1", "2", "4", "8", "17"])
def test_budget_holds_for_any_web_concurrency(web_concurrency):
    """Daphne is one process per dyno whatever the buildpack sets WEB_CONCURRENCY to."""
    values = settings_json(**PRODUCTION, DATABASE_URL="postgres://u:p@db.example:5432/d", WEB_CONCURRENCY=web_concurrency)
    assert values["db"]["OPTIONS"]["pool"]["max_size"] + 2 <= 20


@pytest.mark.parametrize("limit, pool_size", [("2", ""), ("20", "19"), ("20", "0")])
def test_a_pool_that_cannot_fit_the_plan_refuses_to_start_with_one_line(limit, pool_size):
    result = run(["-c", "import chatsite.settings"], DATABASE_CONNECTION_LIMIT=limit, DATABASE_POOL_SIZE=pool_size)
    assert result.returncode != 0
    assert result.stderr.strip().startswith("DATABASE_POOL_SIZE=")
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_host_logs_one_line_not_a_traceback():
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client(HTTP_HOST='evil.example').get('/json').status_code)"
    )
    result = run(["-c", code], **PRODUCTION, ALLOWED_HOSTS="chat.example.org", SECURE_SSL_REDIRECT="false")
    assert result.stdout.strip().splitlines()[-1] == "400"
    logged = [line for line in result.stdout.splitlines() if "DisallowedHost" in line]
    assert len(logged) == 1, result.stdout
    assert "Traceback" not in result.stdout + result.stderr
