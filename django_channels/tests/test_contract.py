import html
import re

import pytest
from contract.models import Fortune, World
from contract.views import parse_queries
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

HTML_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


def test_json_and_plaintext(client):
    response = client.get("/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Hello, World!"}
    response = client.get("/plaintext")
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"Hello, World!"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, 1),
        ("", 1),
        ("abc", 1),
        ("0", 1),
        ("-3", 1),
        ("1.5", 1),
        ("7", 7),
        (" 12 ", 12),
        ("500", 500),
        ("501", 500),
        ("9" * 5000, 500),
    ],
)
def test_parse_queries(raw, expected):
    assert parse_queries(raw) == expected


def test_unknown_path_is_django_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Not Found" in response.content


def test_wrong_method_is_405_with_allow(client):
    response = client.post("/json", data=b"{}", content_type="application/json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert "error" in response.json()


def test_whoami_trusts_only_the_rightmost_forwarded_for(client):
    response = client.get(
        "/whoami",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https"},
    )
    assert response.json() == {"ip": "203.0.113.9", "scheme": "https"}
    response = client.get("/whoami")
    assert response.json() == {"ip": "127.0.0.1", "scheme": "http"}


@pytest.mark.parametrize(
    "forwarded_for, forwarded_proto, expected",
    [
        ("6.6.6.6,", "https, http", {"ip": "127.0.0.1", "scheme": "http"}),  # empty rightmost: the peer
        ("6.6.6.6, not-an-ip", "http, https", {"ip": "127.0.0.1", "scheme": "https"}),
        ("::ffff:203.0.113.9", "gopher", {"ip": "203.0.113.9", "scheme": "http"}),
    ],
)
def test_whoami_and_django_agree_on_the_rightmost_entries(client, forwarded_for, forwarded_proto, expected):
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": forwarded_proto}
    assert client.get("/whoami", headers=headers).json() == expected


def test_updates_select_and_update_every_id_even_repeated(seeded, client, monkeypatch):
    monkeypatch.setattr("contract.views.random_id", lambda: 7)
    with CaptureQueriesContext(connection) as captured:
        rows = client.get("/updates?queries=3").json()
    statements = [query["sql"].split()[0] for query in captured.captured_queries]
    assert statements.count("SELECT") == 3 and statements.count("UPDATE") == 3
    assert [row["id"] for row in rows] == [7, 7, 7]


def test_db_queries_updates(seeded, client):
    row = client.get("/db").json()
    assert set(row) == {"id", "randomNumber"} and 1 <= row["id"] <= 10000
    for raw, count in (("abc", 1), ("0", 1), ("3", 3), ("600", 500)):
        rows = client.get(f"/queries?queries={raw}").json()
        assert len(rows) == count
    rows = client.get("/updates?queries=20").json()
    assert len(rows) == 20
    stored = {world.id: world.randomnumber for world in World.objects.filter(id__in=[r["id"] for r in rows])}
    for row in rows:
        assert stored[row["id"]] == row["randomNumber"]


def test_fortunes_sorted_escaped_with_extra_row(seeded, client):
    response = client.get("/fortunes")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    for header in HTML_HEADERS:
        assert response.has_header(header)
    body = response.content.decode()
    assert "&lt;script&gt;" in body and "<script>" not in body
    cells = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", body)
    messages = [html.unescape(message) for _, message in cells]
    expected = sorted([f.message for f in Fortune.objects.all()] + ["Additional fortune added at request time."])
    assert messages == expected
    assert "日本語のテキストもそのまま表示されるべきです。" in messages


def test_database_failure_is_503_with_message(seeded, client, monkeypatch):
    def refuse(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(World.objects, "get", refuse)
    response = client.get("/db")
    assert response.status_code == 503
    assert response.json() == {"error": "database unavailable: connection refused"}


def test_health(seeded, client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "not configured"}}


def test_health_reports_a_dead_redis(seeded, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["checks"]["redis"].startswith("redis unavailable")


def test_home_and_lobby_are_html_with_security_headers(seeded, client):
    for path in ("/", "/chat/", "/chat/general/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response["X-Frame-Options"] == "DENY"
        for header in HTML_HEADERS:
            assert response.has_header(header)


def test_every_answer_has_a_date(client):
    """RFC 9110 6.6.1; Daphne sends no Date, chatsite.middleware does, outermost."""
    answers = [
        client.get("/json"),
        client.get("/no/such/page"),
        client.post("/json"),
        client.get("/json", headers={"Host": "evil.example"}),
    ]
    assert [answer.status_code for answer in answers] == [200, 404, 405, 400]
    for answer in answers:
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", answer["Date"])


def test_the_last_middleware_is_sync_only_so_the_chain_crosses_to_a_thread_once():
    """Under ASGI a sync-only middleware last keeps Django's own (MiddlewareMixin) in sync
    mode, one thread crossing a request instead of one per hook (settings.MIDDLEWARE has the
    figures). If WhiteNoise turns async-capable this fails: measure again."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    last = import_string(settings.MIDDLEWARE[-1])
    assert getattr(last, "sync_capable", True) and not getattr(last, "async_capable", False)
