"""The contract routes that need no database, through the full WSGI stack."""

import pytest
from webapp import create_app, parse_queries
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

from .helpers import make_config

HTML_SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.fixture
def client():
    """The whole WSGI application (test-app mount included) in production, without a database."""
    return Client(create_app(make_config(DYNO="web.1")))


@pytest.fixture
def dev_client():
    return Client(create_app(make_config()))


def test_json(client):
    response = client.get("/json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": "Hello, World!"}


def test_plaintext(client):
    response = client.get("/plaintext")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Hello, World!"


def test_static_headers_come_from_uwsgi_ini_not_the_app(client):
    # uwsgi.ini's add-header lines put them on every response; the app adds none.
    headers = client.get("/").headers
    assert "X-Frame-Options" not in headers and "Server" not in headers


def test_home_links_the_routes(client):
    page = client.get("/").get_data(as_text=True)
    for route in ["/health", "/json", "/plaintext", "/db", "/queries", "/updates", "/fortunes", "/whoami"]:
        assert f'href="{route}' in page
    assert "/testapp/" not in page


def test_werkzeug_test_app_only_in_development(client, dev_client):
    assert client.get("/testapp/").status_code == 404
    assert 'href="/testapp/"' in dev_client.get("/").get_data(as_text=True)
    response = dev_client.get("/testapp/")
    assert "WSGI Information" in response.get_data(as_text=True)
    # Mounted, so the test app sees its own prefix as SCRIPT_NAME in the environ it lists.
    assert "SCRIPT_NAME" in response.get_data(as_text=True)


def test_werkzeug_test_app_in_production_only_when_asked_for():
    client = Client(create_app(make_config(DYNO="web.1", SERVE_TEST_APP="true")))
    assert client.get("/testapp/").status_code == 200


def test_whoami_without_proxy_is_the_peer(client):
    response = client.get("/whoami", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert response.get_json() == {"ip": "192.0.2.7", "scheme": "http"}


@pytest.mark.parametrize(
    "forwarded_for,forwarded_proto,expected",
    [
        ("6.6.6.6, 203.0.113.9", "https", {"ip": "203.0.113.9", "scheme": "https"}),
        ("1.1.1.1, ::ffff:203.0.113.9", "http, https", {"ip": "203.0.113.9", "scheme": "https"}),
        ("6.6.6.6,", "https, gopher", {"ip": "10.1.2.3", "scheme": "http"}),
        ("not-an-ip", "<script>", {"ip": "10.1.2.3", "scheme": "http"}),
        ("2001:db8::1", "x" * 10_000, {"ip": "2001:db8::1", "scheme": "http"}),
    ],
)
def test_whoami_trusts_only_the_rightmost_entries(client, forwarded_for, forwarded_proto, expected):
    response = client.get(
        "/whoami",
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": forwarded_proto},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.get_json() == expected


@pytest.mark.parametrize("host", ["..", "a" * 10_000, "a..b"])
def test_a_bad_host_is_a_400(client, host):
    response = client.get("/json", headers={"Host": host})
    assert response.status_code == 400
    assert "error" in response.get_json()


@pytest.mark.parametrize("host", ["a, b", "", " "])  # two Host headers, as uWSGI joins them; none
def test_anything_but_one_host_is_a_400(client, host):
    response = client.get("/json", headers={"Host": host})
    assert response.status_code == 400
    assert response.get_json() == {"error": "exactly one Host header is required"}


@pytest.mark.parametrize("key", ["HTTP_BAD NAME", "HTTP_X_TEST "])  # `Bad Name: x`, `X-Test : x`
def test_white_space_in_a_header_name_is_a_400(client, key):
    response = client.get("/json", environ_overrides={key: "x"})
    assert response.get_json() == {"error": "malformed header name"}
    assert response.status_code == 400


@pytest.mark.parametrize("method,path", [("POST", "/json"), ("PUT", "/nope")])
def test_declared_body_over_one_mib_is_413_on_any_route(client, method, path):
    response = client.open(path, method=method, data=b"x" * 16, environ_overrides={"CONTENT_LENGTH": str(2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "error" in response.get_json()


def test_body_of_exactly_one_mib_is_not_refused(client):
    response = client.post("/json", data=b"x" * (1024 * 1024))
    assert response.status_code == 405


def test_database_routes_without_database_url_are_503(client):
    for path in ["/db", "/queries?queries=3", "/updates", "/fortunes"]:
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.get_json() == {"error": "database unavailable: DATABASE_URL is not set"}


def test_health_without_database_is_ok_and_not_configured(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "not configured", "redis": "not configured"},
    }


def test_a_crashing_view_is_a_clean_500_without_traceback(client):
    web = client.application
    web.json = lambda request: 1 / 0
    response = client.get("/json")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal server error"}
    assert b"Traceback" not in response.get_data()


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", 1),
        ("queries=", 1),
        ("queries=abc", 1),
        ("queries=0", 1),
        ("queries=-3", 1),
        ("queries=7", 7),
        ("queries=500", 500),
        ("queries=501", 500),
        ("queries=99999999999999999999", 500),
        ("queries=1.5", 1),
    ],
)
def test_queries_parameter(query, expected):
    request = Request(EnvironBuilder(path="/queries", query_string=query).get_environ())
    assert parse_queries(request) == expected


@pytest.mark.parametrize(
    ("environ", "host", "status"),
    [
        ({}, "127.0.0.1:5000", 200),
        ({}, "evil.example", 400),
        ({"ALLOWED_HOSTS": ".example.net"}, "app.example.net", 200),
        ({"ALLOWED_HOSTS": ".example.net"}, "badexample.net", 400),
        ({"DYNO": "web.1"}, "app-0123456789ab.herokuapp.com", 200),
    ],
)
def test_a_host_outside_allowed_hosts_is_refused(environ, host, status):
    response = Client(create_app(make_config(**environ))).get("/json", headers={"Host": host})
    assert response.status_code == status
    assert host not in response.get_data(as_text=True)


def test_the_mounted_test_app_checks_the_host_too(dev_client):
    assert dev_client.get("/testapp/", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    refused = dev_client.get("/testapp/", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert b"evil.example" not in refused.data
