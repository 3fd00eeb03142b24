"""Production defaults: headers, body limit, proxies, TLS Redis, and nothing leaked."""

from __future__ import annotations

import time

import httpx
import pytest
import yaml

from conftest import record
from harness.http import leaks, raw_request, status_of
from harness.proxy import TlsProxy
from harness.tolerances import UWSGI_ROUTER_ISSUE, behind_uwsgi_router, traceback_in

BODY_LIMIT = 1024 * 1024
GET_ONLY_ROUTES = ["/json", "/plaintext", "/no/such/page"]


@pytest.mark.parametrize("path", ["/", "/fortunes"])
def test_html_carries_security_headers(served, path):
    headers = httpx.get(served.url + path, timeout=5).headers
    assert headers.get("X-Content-Type-Options") == "nosniff"
    frame_rule = headers.get("X-Frame-Options", "") or ("frame-ancestors" in headers.get("Content-Security-Policy", "") and "csp")
    assert frame_rule, "neither X-Frame-Options nor CSP frame-ancestors"
    assert headers.get("Referrer-Policy")


def body_routes(spec) -> list[tuple[str, str]]:
    """(method, path) of every operation with a request body in the app's own openapi.yaml."""
    document = spec.path / "openapi.yaml"
    if not document.exists():
        return []
    paths = yaml.safe_load(document.read_text()).get("paths", {})
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]


def oversized(served, method: str, path: str) -> bytes:
    body = b"x" * (2 * BODY_LIMIT)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return raw_request(served.port, head + body)


def test_body_over_1_mib_is_413_on_every_route_that_takes_a_body(spec, served):
    """Must-have: 413 where a body is taken. Measured: what GET-only and unknown routes answer
    (413 before routing, a plain 405/404, or nothing: uWSGI's router may reset a connection
    whose body the worker did not read, unbit/uwsgi#2133); never a 5xx there either."""
    refused = {}
    for method, path in body_routes(spec):
        answer = oversized(served, method, path.replace("{", "").replace("}", ""))
        refused[f"{method} {path}"] = status_of(answer)
        if "{" in path:
            # A made-up id may name no resource: 404 is a true answer about it, before any body.
            assert status_of(answer) in (404, 413), answer[:300]
        else:
            assert status_of(answer) == 413, (method, path, answer[:300])
        assert not leaks(answer.decode("latin-1"))
    record(spec, "body_over_1_mib_on_body_routes", ", ".join(f"{k}={v}" for k, v in refused.items()) or "none")
    statuses = {}
    for path in GET_ONLY_ROUTES:
        answer = oversized(served, "POST", path)
        if answer == b"" and behind_uwsgi_router(spec):
            statuses[path] = f"reset ({UWSGI_ROUTER_ISSUE})"  # the router resets a body the worker did not read
            continue
        statuses[path] = status_of(answer)
        assert 200 <= statuses[path] < 500, (path, answer[:300])
        assert not leaks(answer.decode("latin-1"))
    record(spec, "body_over_1_mib_on_get_only_routes", ", ".join(f"{k}={v}" for k, v in statuses.items()))


def test_body_under_the_limit_is_not_413(served):
    response = httpx.post(served.url + "/json", content=b"x" * 1024, timeout=5)
    assert response.status_code == 405


# Requests a router would pass on: each gets an HTTP answer below 500.
ROUTABLE_LINES = [
    b"GET /%00 HTTP/1.1",
    b"GET /db?queries=%ff%fe HTTP/1.1",
    b"GET /" + b"a" * 6000 + b" HTTP/1.1",
    b"GET /queries?queries=1e309 HTTP/1.1",
    b"GET /fortunes/../../etc/passwd HTTP/1.1",
    b"GARBAGE / HTTP/1.1",
    b"GET /whoami HTTP/1.1\r\nX-Forwarded-For: \xff\xfe, not-an-ip",
    b"GET / HTTP/9.9",
    b"GET  HTTP/1.1",  # an HTTP/1.1 line with an empty target: RFC 9112 section 3, a 400
]
# Not HTTP at all: a 4xx, or the connection closed without an answer, are both clean.
NOT_HTTP_LINES = [b"GET", b"\x00\x01\x02 garbage \xff"]


@pytest.mark.parametrize("request_line", ROUTABLE_LINES + NOT_HTTP_LINES)
def test_malformed_requests_get_no_5xx_and_no_traceback(served, request_line):
    """No 5xx and no traceback, in the answer or in the log."""
    log_before = len(served.output())
    answer = raw_request(served.port, request_line + f"\r\nHost: 127.0.0.1:{served.port}\r\nConnection: close\r\n\r\n".encode())
    # Closed (EOF) without a byte: clean for a line that is not HTTP; a hang raises NoAnswer.
    closed_without_answer = request_line in NOT_HTTP_LINES and answer == b""
    assert closed_without_answer or 200 <= status_of(answer) < 500, answer[:300]
    assert not leaks(answer.decode("latin-1"))
    time.sleep(0.3)  # the server may write its log line just after answering
    logged = traceback_in(served.output()[log_before:])
    assert logged is None, logged


def test_debug_is_off_by_default_in_development_mode_too(spec, launch):
    """`DYNO` unset: development mode, and still no debug page for an error."""
    process = launch(env={"DYNO": None})
    for method, path in [("GET", "/no/such/page"), ("POST", "/json"), ("GET", "/queries?queries=%ff")]:
        response = httpx.request(method, process.url + path, timeout=10)
        assert response.status_code < 500, (path, response.text[:300])
        assert not leaks(response.text), (path, response.text[:500])


@pytest.mark.feature("heroku-redis")
def test_redis_over_tls_with_a_self_signed_certificate(spec, launch):
    """Heroku's Key-Value Store: rediss:// with a certificate no CA signed, for the apps whose
    app.json provisions it; /health must report Redis reached over TLS ("ok")."""
    tls = TlsProxy(6379)
    try:
        process = launch(env={"REDIS_URL": f"rediss://127.0.0.1:{tls.port}/{spec.redis_db}"})
        response = httpx.get(process.url + "/health", timeout=5)
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["redis"] == "ok", response.text
        assert tls.handshakes > 0, "/health said ok, yet no TLS session came through the proxy"
    finally:
        tls.close()
