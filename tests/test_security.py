"""Production defaults: headers, body limit, proxies, TLS Redis, and nothing leaked."""

from __future__ import annotations

import httpx
import pytest

from harness.http import leaks, raw_request, status_of
from harness.proxy import TlsProxy

BODY_LIMIT = 1024 * 1024


@pytest.mark.parametrize("path", ["/", "/fortunes"])
def test_html_carries_security_headers(served, path):
    headers = httpx.get(served.url + path, timeout=5).headers
    assert headers.get("X-Content-Type-Options") == "nosniff"
    frame_rule = headers.get("X-Frame-Options", "") or (
        "frame-ancestors" in headers.get("Content-Security-Policy", "") and "csp")
    assert frame_rule, "neither X-Frame-Options nor CSP frame-ancestors"
    assert headers.get("Referrer-Policy")


@pytest.mark.parametrize("path", ["/json", "/plaintext", "/no/such/page"])
def test_body_over_the_limit_is_413(served, path):
    body = b"x" * (2 * BODY_LIMIT)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    answer = raw_request(served.port, head + body)
    assert status_of(answer) == 413, answer[:300]


def test_body_under_the_limit_is_not_413(served):
    response = httpx.post(served.url + "/json", content=b"x" * 1024, timeout=5)
    assert response.status_code == 405


@pytest.mark.parametrize("request_line", [
    b"GET /%00 HTTP/1.1", b"GET /db?queries=%ff%fe HTTP/1.1", b"GET /" + b"a" * 6000 + b" HTTP/1.1",
    b"GET /queries?queries=1e309 HTTP/1.1", b"GET /fortunes/../../etc/passwd HTTP/1.1",
    b"GARBAGE / HTTP/1.1", b"GET /whoami HTTP/1.1\r\nX-Forwarded-For: \xff\xfe, not-an-ip",
])
def test_malformed_requests_get_a_clean_4xx(served, request_line):
    answer = raw_request(served.port, request_line + f"\r\nHost: 127.0.0.1:{served.port}\r\nConnection: close\r\n\r\n".encode())
    status = status_of(answer)
    assert 200 <= status < 500, answer[:300]
    assert not leaks(answer.decode("latin-1"))


def test_redis_over_tls_with_a_self_signed_certificate(spec, served, launch):
    """Heroku's Key-Value Store: rediss:// with a certificate no CA signed."""
    expected = httpx.get(served.url + "/health", timeout=5).json()["checks"]["redis"]
    tls = TlsProxy(6379)
    try:
        process = launch(env={"REDIS_URL": f"rediss://127.0.0.1:{tls.port}/{spec.redis_db}"})
        response = httpx.get(process.url + "/health", timeout=5)
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["redis"] == expected
    finally:
        tls.close()
