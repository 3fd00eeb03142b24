"""Contract routes and migrations against a scratch PostgreSQL database."""

import re
from html import unescape

from migrate import MIGRATIONS_DIR, migrate

from conftest import query


def test_db_row(db_app):
    _, response = db_app.test_client.get("/db")
    assert response.status == 200
    row = response.json
    assert 1 <= row["id"] <= 10000 and 1 <= row["randomNumber"] <= 10000


def test_queries_count_and_bounds(db_app):
    _, response = db_app.test_client.get("/queries?queries=600")
    assert len(response.json) == 500
    _, response = db_app.test_client.get("/queries?queries=nope")
    assert len(response.json) == 1


def test_updates_are_persisted(db_app, database_url):
    _, response = db_app.test_client.get("/updates?queries=20")
    assert response.status == 200
    returned = {row["id"]: row["randomNumber"] for row in response.json}
    stored = dict(query(database_url, "SELECT id, randomnumber FROM world WHERE id = ANY($1::int[])", list(returned)))
    assert stored == returned


def test_fortunes_sorted_escaped_with_extra_row(db_app):
    _, response = db_app.test_client.get("/fortunes")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;alert(" in response.text
    assert "<script>" not in response.text
    cells = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", response.text)
    messages = [unescape(message) for _, message in cells]
    assert len(cells) == 13
    assert messages == sorted(messages)
    assert ("0", "Additional fortune added at request time.") in cells
    assert "日本語のテキストもそのまま表示されるべきです。" in messages


def test_health_ok(db_app):
    _, response = db_app.test_client.get("/health")
    assert response.status == 200
    assert response.json["checks"]["database"] == "ok"


def test_migrations_are_idempotent(database_url):
    assert migrate(database_url) == []
    assert query(database_url, "SELECT count(*) FROM world")[0][0] == 10000
    assert query(database_url, "SELECT count(*) FROM fortune")[0][0] == 12
    assert query(database_url, "SELECT count(*) FROM _yoyo_migration")[0][0] == len(list(MIGRATIONS_DIR.glob("*.sql")))


def test_postgresql_scheme_is_accepted(make_app, database_url):
    from starter.config import Settings

    app = make_app(Settings(database_url=database_url.replace("postgres://", "postgresql://", 1)))
    _, response = app.test_client.get("/db")
    assert response.status == 200
