"""Migrations and the database routes against a scratch Postgres database.

Needs a Postgres server: DATABASE_ADMIN_URL (an admin connection; the repository's Makefile
exports it), default the local server as user postgres. The tests create their own database
and drop it afterwards.
"""

import html
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from webapp import create_app
from werkzeug.test import Client

from .helpers import make_config

ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
APP_DIR = Path(__file__).resolve().parents[1]


def release(database_url: str) -> subprocess.CompletedProcess:
    """The Procfile's release: line, run as Heroku runs it (sh -c, the app folder)."""
    line = next(line for line in (APP_DIR / "Procfile").read_text().splitlines() if line.startswith("release:"))
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "DATABASE_URL": database_url}
    result = subprocess.run(
        ["sh", "-c", line.removeprefix("release:")], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def database_url():
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=2)
    except psycopg.OperationalError as error:
        if "DATABASE_ADMIN_URL" in os.environ:  # a database was promised: its absence is a failure
            pytest.fail(f"DATABASE_ADMIN_URL is set but no Postgres answers there ({error})")
        pytest.skip(f"no Postgres at {ADMIN_URL} and DATABASE_ADMIN_URL unset ({error})")
    name = f"scratch_uwsgi_werkzeug_tests_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        info = psycopg.conninfo.conninfo_to_dict(ADMIN_URL)
        info["dbname"] = name
        # Heroku's form of the URL, which the release line has to translate for yoyo.
        url = f"postgres://{info.get('user', 'postgres')}@{info['host']}:{info.get('port', 5432)}/{name}"
        release(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def app(database_url):
    wsgi = create_app(make_config(DATABASE_URL=database_url))
    yield wsgi
    wsgi.database.close()


@pytest.fixture
def client(app):
    return Client(app)


def query(url, sql, *params):
    with psycopg.connect(url) as connection:
        cursor = connection.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def test_migrations_seed_once_and_rerun_harmlessly(database_url):
    query(database_url, "UPDATE world SET randomnumber = 4242 WHERE id = 1")
    release(database_url)
    assert query(database_url, "SELECT count(*) FROM _yoyo_migration") == [(1,)]
    assert query(database_url, "SELECT count(*), min(id), max(id) FROM world") == [(10000, 1, 10000)]
    assert query(database_url, "SELECT randomnumber FROM world WHERE id = 1") == [(4242,)]
    assert query(database_url, "SELECT count(*) FROM fortune") == [(12,)]


def test_health_is_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["checks"]["database"] == "ok"


def test_db_returns_a_stored_row(client, database_url):
    row = client.get("/db").get_json()
    assert query(database_url, "SELECT randomnumber FROM world WHERE id = %s", row["id"]) == [(row["randomNumber"],)]


@pytest.mark.parametrize("param,count", [("3", 3), ("0", 1), ("x", 1), ("501", 500)])
def test_queries_count(client, param, count):
    rows = client.get(f"/queries?queries={param}").get_json()
    assert len(rows) == count
    assert all(1 <= row["id"] <= 10000 and 1 <= row["randomNumber"] <= 10000 for row in rows)


def test_updates_are_persisted_before_the_response(client, database_url):
    rows = client.get("/updates?queries=20").get_json()
    assert len(rows) == 20
    stored = dict(query(database_url, "SELECT id, randomnumber FROM world WHERE id = ANY(%s)", [row["id"] for row in rows]))
    for row in rows:
        assert stored[row["id"]] == row["randomNumber"]


def test_fortunes_sorted_escaped_with_the_extra_row(client, database_url):
    response = client.get("/fortunes")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    body = response.get_data(as_text=True)
    rows = query(database_url, "SELECT id, message FROM fortune")
    rows.append((0, "Additional fortune added at request time."))
    expected = "".join(
        f"<tr><td>{fortune_id}</td><td>{html.escape(message)}</td></tr>"
        for fortune_id, message in sorted(rows, key=lambda row: row[1])
    )
    assert expected in body
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert "日本語のテキスト" in body


def test_updates_read_and_write_every_requested_id(client, database_url):
    """TechEmpower's verifier: duplicates included, one SELECT and one UPDATE per id."""

    def counters():
        return query(database_url, "SELECT tup_updated, tup_fetched FROM pg_stat_database WHERE datname = current_database()")[0]

    query(database_url, "SELECT pg_stat_clear_snapshot()")
    before = counters()
    for _ in range(5):
        assert len(client.get("/updates?queries=500").get_json()) == 500
    # An idle backend flushes its statistics within PGSTAT_IDLE_INTERVAL (10 s).
    deadline = time.monotonic() + 15
    while counters()[0] - before[0] < 2500 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert counters()[0] - before[0] >= 2500


def test_unreachable_database_is_a_quick_503():
    wsgi = create_app(make_config(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    client = Client(wsgi)
    try:
        for path in ["/db", "/health"]:
            started = time.monotonic()
            response = client.get(path)
            # The contract's outage answer: a 503 with a message within 5 s.
            assert time.monotonic() - started < 5, path
            assert response.status_code == 503, path
        assert response.get_json()["checks"]["database"].startswith("database unavailable:")
        assert client.get("/json").status_code == 200
    finally:
        wsgi.database.close()
