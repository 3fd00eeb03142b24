"""Contract routes that need no database, through a real Sanic HTTP server."""

import pytest
from starter.contract import query_count


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 1),
        ("", 1),
        ("abc", 1),
        ("0", 1),
        ("-5", 1),
        ("1.5", 1),
        ("7", 7),
        ("500", 500),
        ("501", 500),
        ("99999999999999999999", 500),
    ],
)
def test_query_count(raw, expected):
    assert query_count(raw) == expected


def test_json(app):
    _, response = app.test_client.get("/json")
    assert response.status == 200
    assert response.json == {"message": "Hello, World!"}
    assert response.headers["content-type"] == "application/json"
    assert "content-length" in response.headers


def test_head_answers_like_get_without_a_body(app):
    _, response = app.test_client.head("/json")
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b""


def test_plaintext(app):
    _, response = app.test_client.get("/plaintext")
    assert response.text == "Hello, World!"
    assert response.headers["content-type"].startswith("text/plain")


def test_home_is_html_with_security_headers(app):
    _, response = app.test_client.get("/")
    assert response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "referrer-policy" in response.headers
    assert 'href="/fortunes"' in response.text


def test_unknown_path_is_json_404(app):
    _, response = app.test_client.get("/no/such/page")
    assert response.status == 404
    assert "error" in response.json


def test_wrong_method_is_405_with_allow(app):
    _, response = app.test_client.post("/json")
    assert response.status == 405
    assert sorted(response.headers["allow"].split(", ")) == ["GET", "HEAD"]


@pytest.mark.parametrize(("path", "allowed"), [("/notes", ["GET", "HEAD", "POST"]), ("/notes/5", ["DELETE", "GET", "HEAD"])])
def test_405_on_notes_lists_every_allowed_method(app, path, allowed):
    _, response = app.test_client.put(path, content=b"{}")
    assert response.status == 405
    assert sorted(response.headers["allow"].split(", ")) == allowed


def test_body_over_1_mib_is_413_from_sanics_own_limit(app):
    # REQUEST_MAX_SIZE: Sanic refuses the declared size before reading the body.
    _, response = app.test_client.post("/notes", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"})
    assert response.status == 413
    assert "error" in response.json


@pytest.mark.parametrize(("method", "path", "status"), [("post", "/json", 405), ("post", "/nowhere", 404)])
def test_body_on_a_route_that_takes_none_is_refused_by_routing(app, method, path, status):
    # 413 before routing is no longer asked for (contract v2): a 4xx, without the body.
    _, response = getattr(app.test_client, method)(path, content=b"x" * (2 * 1024 * 1024))
    assert response.status == status


def test_whoami_without_proxy(app):
    _, response = app.test_client.get("/whoami")
    assert response.json == {"ip": "127.0.0.1", "scheme": "http"}


def test_whoami_trusts_only_the_rightmost_forwarded_for(app):
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9", "X-Forwarded-Proto": "https"}
    _, response = app.test_client.get("/whoami", headers=headers)
    assert response.json == {"ip": "203.0.113.9", "scheme": "https"}


@pytest.mark.parametrize(
    ("proto", "scheme"), [("https", "https"), ("http, https", "https"), ("https, http", "http"), ("gopher", "http")]
)
def test_whoami_scheme_is_rightmost_forwarded_proto(app, proto, scheme):
    _, response = app.test_client.get("/whoami", headers={"X-Forwarded-Proto": proto})
    assert response.json["scheme"] == scheme


@pytest.mark.parametrize("forwarded", ["6.6.6.6,", "6.6.6.6, nonsense", "6.6.6.6,,"])
def test_whoami_falls_back_to_the_peer_when_the_rightmost_entry_is_not_an_address(app, forwarded):
    _, response = app.test_client.get("/whoami", headers={"X-Forwarded-For": forwarded})
    assert response.json["ip"] == "127.0.0.1"


def test_whoami_ipv6_client_is_unbracketed(app):
    _, response = app.test_client.get("/whoami", headers={"X-Forwarded-For": "2001:db8::1"})
    assert response.json["ip"] == "2001:db8::1"


def test_health_without_database_url(app):
    _, response = app.test_client.get("/health")
    assert response.status == 200
    assert response.json == {"status": "ok", "checks": {"database": "not configured", "redis": "not configured"}}


@pytest.mark.parametrize("path", ["/db", "/queries?queries=2", "/updates", "/fortunes", "/notes"])
def test_database_routes_say_database_url_is_not_set(app, path):
    _, response = app.test_client.get(path)
    assert response.status == 503
    assert response.json == {"error": "database unavailable: DATABASE_URL is not set"}


def test_refused_database_is_503_with_message(make_app):
    from starter.config import Settings

    app = make_app(Settings(database_url="postgres://nobody@127.0.0.1:1/none"))
    _, response = app.test_client.get("/health")
    assert response.status == 503
    assert response.json["status"] == "error"
    assert response.json["checks"]["database"].startswith("database unavailable:")
    _, response = app.test_client.get("/db")
    assert response.status == 503
    assert response.json["error"].startswith("database unavailable:")
