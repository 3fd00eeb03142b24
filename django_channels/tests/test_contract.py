import html
import re

import pytest
from chatsite.http_edge import HttpEdge
from contract import views
from contract.models import Fortune, World
from contract.views import parse_queries
from django.db import OperationalError

HTML_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


async def test_json_and_plaintext(async_client):
    response = await async_client.get("/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Hello, World!"}
    response = await async_client.get("/plaintext")
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"Hello, World!"


@pytest.mark.parametrize(
    "raw, expected",
    [(None, 1), ("", 1), ("abc", 1), ("0", 1), ("-3", 1), ("1.5", 1), ("7", 7), (" 12 ", 12),
     ("500", 500), ("501", 500), ("9" * 5000, 500)],
)
def test_parse_queries(raw, expected):
    assert parse_queries(raw) == expected


async def test_unknown_path_is_json_404(async_client):
    response = await async_client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


async def test_wrong_method_is_405_with_allow(async_client):
    response = await async_client.post("/json", data=b"{}", content_type="application/json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "error" in response.json()


async def test_whoami_trusts_only_the_rightmost_forwarded_for(async_client):
    response = await async_client.get(
        "/whoami",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https"},
    )
    assert response.json() == {"ip": "203.0.113.9", "scheme": "https"}
    response = await async_client.get("/whoami")
    assert response.json() == {"ip": "127.0.0.1", "scheme": "http"}


async def test_db_queries_updates(seeded, async_client):
    row = (await async_client.get("/db")).json()
    assert set(row) == {"id", "randomNumber"} and 1 <= row["id"] <= 10000
    for raw, count in (("abc", 1), ("0", 1), ("3", 3), ("600", 500)):
        rows = (await async_client.get(f"/queries?queries={raw}")).json()
        assert len(rows) == count
    rows = (await async_client.get("/updates?queries=20")).json()
    assert len(rows) == 20
    stored = {world.id: world.randomnumber async for world in World.objects.filter(id__in=[r["id"] for r in rows])}
    for row in rows:
        assert stored[row["id"]] == row["randomNumber"]


async def test_fortunes_sorted_escaped_with_extra_row(seeded, async_client):
    response = await async_client.get("/fortunes")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    for header in HTML_HEADERS:
        assert response.has_header(header)
    body = response.content.decode()
    assert "&lt;script&gt;" in body and "<script>" not in body
    cells = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", body)
    messages = [html.unescape(message) for _, message in cells]
    expected = sorted([f.message async for f in Fortune.objects.all()] + ["Additional fortune added at request time."])
    assert messages == expected
    assert "日本語のテキストもそのまま表示されるべきです。" in messages


async def test_database_failure_is_503_with_message(seeded, async_client, monkeypatch):
    def refuse(count):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "fetch_worlds", refuse)
    response = await async_client.get("/db")
    assert response.status_code == 503
    assert response.json() == {"error": "database unavailable: connection refused"}


async def test_health(seeded, async_client):
    response = await async_client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}


async def test_health_reports_a_dead_redis(seeded, async_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = await async_client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["checks"]["redis"].startswith("redis unavailable")


async def test_home_and_lobby_are_html_with_security_headers(seeded, async_client):
    for path in ("/", "/chat/", "/chat/general/"):
        response = await async_client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response["X-Frame-Options"] == "DENY"
        for header in HTML_HEADERS:
            assert response.has_header(header)


async def call_edge(headers):
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    await HttpEdge(app, body_limit=1024)({"type": "http", "headers": headers}, receive, send)
    return sent


async def test_declared_body_over_the_limit_is_413_before_the_app():
    start, body = await call_edge([(b"content-length", b"1025")])
    assert start["status"] == 413
    assert b"1024 bytes" in body["body"]
    assert any(name == b"date" for name, _ in start["headers"])


async def test_body_within_the_limit_reaches_the_app_and_gets_a_date():
    start, body = await call_edge([(b"content-length", b"1024")])
    assert start["status"] == 200 and body["body"] == b"ok"
    assert any(name == b"date" for name, _ in start["headers"])
    start, _ = await call_edge([(b"content-length", b"12x")])
    assert start["status"] == 400
