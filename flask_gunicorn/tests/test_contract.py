import re

import pytest
from sqlalchemy import select
from votr import create_app
from votr.models import World, db
from werkzeug.test import EnvironBuilder, run_wsgi_app

HTML_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


def test_json(client):
    response = client.get("/json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": "Hello, World!"}


def test_plaintext(client):
    response = client.get("/plaintext")
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Hello, World!"


def test_db_returns_a_seeded_row(client, app):
    row = client.get("/db").get_json()
    assert 1 <= row["id"] <= 10000
    with app.app_context():
        assert db.session.get(World, row["id"]).randomnumber == row["randomNumber"]


@pytest.mark.parametrize(
    ("raw", "count"),
    [(None, 1), ("", 1), ("abc", 1), ("0", 1), ("-4", 1), ("1.5", 1), ("7", 7), ("501", 500)],
)
def test_queries_parameter(client, raw, count):
    url = "/queries" if raw is None else f"/queries?queries={raw}"
    rows = client.get(url).get_json()
    assert len(rows) == count
    assert all(set(row) == {"id", "randomNumber"} for row in rows)


def test_updates_are_persisted(client, app):
    rows = client.get("/updates?queries=20").get_json()
    assert len(rows) == 20
    with app.app_context():
        stored = dict(db.session.execute(select(World.id, World.randomnumber)).all())
    for row in rows:
        assert stored[row["id"]] == row["randomNumber"]
        assert 1 <= row["randomNumber"] <= 10000


def test_fortunes_sorted_escaped_and_extended(client):
    response = client.get("/fortunes")
    assert response.content_type == "text/html; charset=utf-8"
    body = response.get_data(as_text=True)
    cells = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", body)
    assert len(cells) == 13
    assert ("0", "Additional fortune added at request time.") in cells
    assert "&lt;script&gt;" in body and "<script>" not in body
    assert "日本語のテキストもそのまま表示されるべきです。" in body
    unescaped = [
        message.replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for _, message in cells
    ]
    assert unescaped == sorted(unescaped)
    for header in HTML_HEADERS:
        assert header in response.headers


def test_home_page_links_routes_with_security_headers(client):
    response = client.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hello from Flask" in body
    for route in ("/health", "/json", "/fortunes", "/whoami", "/api/polls", "/get_my_ip/"):
        assert f'href="{route}' in body
    for header in HTML_HEADERS:
        assert header in response.headers


def test_health_on_embedded_defaults(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}


def test_unknown_path_is_json_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/json")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "error" in response.get_json()


def test_body_over_one_mebibyte_is_413_even_where_405(client):
    response = client.post("/json", data=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_body_of_one_mebibyte_is_not_refused(client):
    response = client.post("/other/", data=b"x" * (1024 * 1024))
    assert response.status_code == 200


@pytest.fixture
def unreachable_database_app():
    # Port 1 refuses at once: no server needed to see the 503 path.
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://votr@127.0.0.1:1/votr",
        }
    )


@pytest.mark.parametrize("path", ["/db", "/queries?queries=3", "/updates", "/fortunes"])
def test_database_down_is_503_with_message(unreachable_database_app, path):
    response = unreachable_database_app.test_client().get(path)
    assert response.status_code == 503
    assert response.get_json()["error"].startswith("database unavailable:")


def test_health_reports_database_down(unreachable_database_app):
    response = unreachable_database_app.test_client().get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error"
    assert body["checks"]["database"] not in ("ok", "not configured")


def test_non_database_routes_work_without_database(unreachable_database_app):
    assert unreachable_database_app.test_client().get("/json").status_code == 200


def test_http11_without_host_is_400(app):
    environ = EnvironBuilder(path="/json").get_environ()
    del environ["HTTP_HOST"]
    environ["SERVER_PROTOCOL"] = "HTTP/1.1"
    body, status, _ = run_wsgi_app(app, environ, buffered=True)
    assert status.startswith("400")
    assert b"Host" in b"".join(body)
