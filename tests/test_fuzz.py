"""Requests generated from the OpenAPI contract, with hostile variations: never a 5xx."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import record
from harness.http import leaks

CONTRACT = yaml.safe_load((Path(__file__).parent / "contract" / "openapi.yaml").read_text())
PATHS = sorted(CONTRACT["paths"])
EXAMPLES = 250

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60).map(str.strip)
any_text = st.text(max_size=40)

requests = st.fixed_dictionaries({
    "method": st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    "path": st.one_of(
        st.sampled_from(PATHS),
        st.sampled_from(PATHS).map(lambda p: p.rstrip("/") + "/"),
        any_text.map(lambda t: "/" + quote(t, safe="/:@!$&'()*+,;=")),
    ),
    "params": st.dictionaries(st.sampled_from(["queries", "queries", "q", "id", ""]), any_text, max_size=3),
    "headers": st.dictionaries(
        st.sampled_from(["X-Forwarded-For", "X-Forwarded-Proto", "Accept", "Content-Type", "Cookie", "Range"]),
        header_text, max_size=3),
    "body": st.one_of(st.none(), st.binary(max_size=200), any_text.map(str.encode)),
})


def test_generated_requests_never_get_a_5xx(spec, served):
    seen = {"count": 0, "statuses": set(), "reused_connection_closed": 0}

    def send(request):
        return client.request(request["method"], request["path"], params=request["params"],
                              headers=request["headers"], content=request["body"])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(request=requests)
    def check(request):
        nonlocal client
        try:
            response = send(request)
        except httpx.TransportError:
            # A kept-alive connection the server closed after the previous request (uWSGI's
            # router does so after a request with a body without saying `Connection: close`:
            # unbit/uwsgi#2133). Measured; the request itself must still be answered on a
            # fresh connection, as a client (or Heroku's router) retries it.
            seen["reused_connection_closed"] += 1
            client.close()
            client = httpx.Client(base_url=served.url, timeout=10)
            response = send(request)
        seen["count"] += 1
        seen["statuses"].add(response.status_code)
        assert response.status_code < 500, (request, response.status_code, response.text[:300])
        assert not leaks(response.text), (request, response.text[:300])

    client = httpx.Client(base_url=served.url, timeout=10)
    try:
        check()
    finally:
        client.close()
    record(spec, "fuzzed_requests", seen["count"])
    record(spec, "fuzz_reused_connections_closed_by_server", seen["reused_connection_closed"])
    assert seen["count"] >= 200
    assert any(status < 300 for status in seen["statuses"]) and any(status >= 400 for status in seen["statuses"])
