"""Hostile clients over raw loopback sockets (issue 11): every class of input a raw-socket
sweep found breaking an app, run against every app so each stays fixed.

The rules for anything a client can send: no 5xx, no traceback in the answer or in the
process log, and a 4xx with a short message where the input is wrong. Each test sweeps
one class and reports every case that broke a rule, with the answer observed.

Write routes come from the app's own `openapi.yaml` (its JSON API: polls, notes); an app
without one is swept through the contract's routes, which take no body (POST /json).

Slow clients are measured and printed, never failed; a README states no slow-client figure
of its own (test_readmes_state_no_slow_client_figure), so a claim can only come from the
suite's output.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import yaml

from conftest import MEASUREMENTS, record
from harness.apps import REPO, discover
from harness.http import leaks
from harness.raw import Answer, connect, exchange, final, request, stream_until_answered
from harness.router import Router
from harness.tolerances import UWSGI_ROUTER_ISSUE, behind_uwsgi_router, header_refusal_lost, traceback_in

SHORT_BODY = 4096  # an error message is a sentence, not an echo of the input
BODY_LIMIT = 1024 * 1024
STREAM_LIMIT = 32 * BODY_LIMIT  # what a client streams at most; the server must answer well before
EVIL = "evil.example"


# --- what the app takes -------------------------------------------------------------------


@dataclass
class WriteRoute:
    """A route that takes a JSON body: from the app's openapi.yaml, or POST /json."""

    method: str
    path: str
    template: str  # the openapi path, with its {parameters}
    example: dict
    text_fields: list[tuple[str, bool]] = field(default_factory=list)  # (name, is a list of strings)
    time_fields: list[str] = field(default_factory=list)
    documented: bool = True  # False: a contract route that takes no body at all

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def app_api(spec) -> dict:
    path = Path(spec.path) / "openapi.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def deref(api: dict, node):
    """Follow a local `$ref` (one document, `#/a/b/c`)."""
    while isinstance(node, dict) and "$ref" in node:
        target = api
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def concrete_path(api: dict, path: str, item: dict, value: str | None = None) -> str:
    """The path with each {parameter} filled: its example, or `value` when given."""
    for parameter in item.get("parameters", []):
        parameter = deref(api, parameter)
        if parameter.get("in") == "path":
            filler = value if value is not None else str(parameter.get("example", 1))
            path = path.replace("{" + parameter["name"] + "}", filler)
    return re.sub(r"\{[^}]+\}", value or "1", path)


def write_routes(spec) -> list[WriteRoute]:
    api = app_api(spec)
    routes = []
    for path, item in api.get("paths", {}).items():
        for method in ("post", "put", "patch"):
            operation = item.get(method)
            content = operation and deref(api, operation.get("requestBody", {})).get("content", {})
            if not content or "application/json" not in content:
                continue
            media = content["application/json"]
            schema = deref(api, media.get("schema", {}))
            text_fields, time_fields = [], []
            for name, prop in schema.get("properties", {}).items():
                prop = deref(api, prop)
                if prop.get("type") == "string" and prop.get("format") == "date-time":
                    time_fields.append(name)
                elif prop.get("type") == "string":
                    text_fields.append((name, False))
                elif prop.get("type") == "array" and deref(api, prop.get("items", {})).get("type") == "string":
                    text_fields.append((name, True))
            routes.append(
                WriteRoute(
                    method.upper(), concrete_path(api, path, item), path, media.get("example", {}), text_fields, time_fields
                )
            )
    return routes or [WriteRoute("POST", "/json", "/json", {"message": "Hello, World!"}, documented=False)]


def id_paths(spec) -> list[str]:
    """Routes with a path parameter, in openapi form; the contract has none."""
    return [path for path in app_api(spec).get("paths", {}) if "{" in path]


# --- judging answers ------------------------------------------------------------------------


def problem_with_refusal(
    answer: Answer, *, json_error: bool = False, statuses: range | tuple = range(400, 500), may_close: bool = False
) -> str | None:
    """Why `answer` is not a clean refusal (None when it is)."""
    if answer.status == 0:
        if answer.raw and not final(answer.raw):
            return f"{answer.status_line.decode('latin-1')}, then no answer within {answer.seconds:.1f} s"
        if answer.raw:
            return "an answer that is not an HTTP response"
        if may_close and answer.closed:
            return None
        return "no answer" + (" (connection closed)" if answer.closed else f" within {answer.seconds:.1f} s")
    if leaks(answer.text()):
        return f"leaks {leaks(answer.text())}"
    if answer.status not in statuses:
        return f"status {answer.status}"
    if len(answer.body) > SHORT_BODY:
        return f"error body of {len(answer.body)} bytes"
    if json_error:
        try:
            message = json.loads(answer.body).get("error")
        except (ValueError, AttributeError):
            message = None
        if not message:
            return f'not a JSON {{"error": ...}} body ({answer.headers.get("content-type")})'
    return None


def problem_with_any_answer(answer: Answer) -> str | None:
    """For input a server may accept: an HTTP answer below 500 without a leak. Silence and a
    connection closed without an answer are no answer."""
    if answer.status == 0 and final(answer.raw):
        return "an answer that is not an HTTP response"
    if answer.status == 0:
        return "no answer" + (" (connection closed)" if answer.closed else f" within {answer.seconds:.1f} s")
    if answer.status >= 500:
        return f"status {answer.status}"
    if leaks(answer.text()):
        return f"leaks {leaks(answer.text())}"
    return None


class Sweep:
    """Collects every case that broke a rule, then fails once with all of them."""

    def __init__(self, process):
        self.process = process
        self.problems: list[str] = []
        self.undated: list[str] = []
        self.log_start = len(process.output())

    def check(self, case: str, answer: Answer, problem: str | None) -> None:
        if answer.status and "date" not in answer.headers:
            self.undated.append(f"{case} ({answer.status})")
        if problem:
            self.problems.append(f"{case}: {problem}: {answer!r}")

    def fail(self, case: str, problem: str) -> None:
        self.problems.append(f"{case}: {problem}")

    def finish(self) -> None:
        # Date on what a server answers before the app runs is measured (CONTRACT.md);
        # the app's own answers are checked in test_contract.py.
        undated = MEASUREMENTS.get(self.process.spec.name, {}).get("hostile_answers_without_date", [])
        record(self.process.spec, "hostile_answers_without_date", [*undated, *self.undated])
        time.sleep(0.3)  # the log line of the last request
        logged = traceback_in(self.process.output()[self.log_start :])
        if logged:
            self.problems.append(f"the process log has a traceback: {logged!r}")
        if not self.problems:
            return
        raise AssertionError(f"{len(self.problems)} case(s) broke the rules:\n" + "\n".join(self.problems))


@contextmanager
def sweep(process):
    found = Sweep(process)
    yield found
    found.finish()


def host(process) -> str:
    return f"127.0.0.1:{process.port}"


def post(
    process, route: WriteRoute, body: bytes, content_type: str = "application/json", extra: dict | None = None, **kwargs
) -> Answer:
    headers = {"Content-Type": content_type, **(extra or {})}
    return request(process.port, route.method, route.path, headers=headers, body=body, **kwargs)


def refusal(route: WriteRoute, answer: Answer) -> str | None:
    return problem_with_refusal(answer, json_error=route.documented)


# --- request lines and headers --------------------------------------------------------------


def test_malformed_request_lines_get_a_4xx(served):
    """RFC 9112 §3: an invalid request line gets 400; never a 5xx, an echo or a redirect."""
    port = served.port
    framed = {  # HTTP/1.1 lines: a server can and must answer these with a 4xx
        "protocol token with a space": b"GET /js on HTTP/1.1",
        "CONNECT authority": f"CONNECT 127.0.0.1:{port} HTTP/1.1".encode(),
        "NUL in path": b"GET /\x00 HTTP/1.1",
        "DEL in path": b"GET /a\x7fb HTTP/1.1",
        "control byte in path": b"GET /a\x01b HTTP/1.1",
        "control byte in method": b"G\x01T / HTTP/1.1",
    }
    bare = {  # no HTTP version: a 4xx, or the connection closed without a word
        "GET alone": b"GET\r\n\r\n",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
        "words": b"hello world\r\n\r\n",
        "HTTP/0.9 line": b"GET /\r\n",
        "HTTP/0.9 line to a route": b"GET /json\r\n\r\n",
    }
    with sweep(served) as found:
        for case, line in framed.items():
            answer = exchange(port, line + f"\r\nHost: {host(served)}\r\nConnection: close\r\n\r\n".encode())
            found.check(case, answer, problem_with_refusal(answer))
            if answer.status and not re.fullmatch(rb"HTTP/1\.[01] \d{3}( [A-Za-z -]*)?", answer.status_line):
                found.fail(case, f"status line {answer.status_line!r} is not the server's own")
        for case, data in bare.items():
            answer = exchange(port, data, timeout=4)
            if data.endswith(b"\r\n\r\n") or answer.status:
                found.check(case, answer, problem_with_refusal(answer, may_close=True))
            # else: a lone line may be the start of an HTTP/1.x head; waiting for the rest is fine.
            if host(served).encode() in answer.raw or b"Location" in answer.raw:
                found.fail(case, f"the answer names the host or redirects: {answer!r}")


def test_malformed_headers_never_get_a_5xx(spec, served):
    port = served.port
    start = f"GET /json HTTP/1.1\r\nHost: {host(served)}\r\n".encode()
    # RFC 9112 §5 and §2.2: a field line that is not `name: value` gets a 400 (the request line
    # was HTTP, so closing without an answer is not allowed); a field too large, a 4xx (431).
    must_refuse = {  # case: (field lines, the statuses that are right, what is wrong with them)
        "header without a colon": (b"NoColonHere\r\n", (400,), "unparsable"),
        "space inside a header name": (b"Bad Name: x\r\n", (400,), "unparsable"),
        "space before the colon (RFC 9112 §5.1: MUST 400)": (b"X-Test : x\r\n", (400,), "unparsable"),
        "64 KB header value": (b"X-Big: " + b"a" * 65536 + b"\r\n", range(400, 500), "oversized"),
    }
    may_accept = {
        "NUL in a header value": (b"X-Test: a\x00b\r\n", None),
        "obsolete line folding": (b"X-Test: a\r\n folded\r\n", None),
        "200 headers": (b"".join(b"X-H%d: v\r\n" % i for i in range(200)), None),
        "non-UTF-8 header value": (b"X-Test: \xff\xfe\r\n", None),
    }
    lost = []
    with sweep(served) as found:
        for case, (lines, statuses, kind) in must_refuse.items():
            answer = exchange(port, start + lines + b"Connection: close\r\n\r\n")
            if unanswered(answer) and (issue := header_refusal_lost(spec, kind)):
                lost.append(f"{case} ({issue})")
                continue
            found.check(case, answer, problem_with_refusal(answer, statuses=statuses))
        for case, (lines, kind) in may_accept.items():
            answer = exchange(port, start + lines + b"Connection: close\r\n\r\n")
            if unanswered(answer) and kind and (issue := header_refusal_lost(spec, kind)):
                lost.append(f"{case} ({issue})")
                continue
            found.check(case, answer, problem_with_any_answer(answer))
    record(spec, "header_cases_closed_without_an_answer", ", ".join(lost) or "none")


def unanswered(answer: Answer) -> bool:
    """Closed without a byte (never a hang: `closed` is False after a timeout)."""
    return answer.closed and not answer.raw


# --- bodies: chunked framing and smuggling --------------------------------------------------

CHUNKED_ABUSE = {
    "bad hex size": b"zz\r\nhello\r\n0\r\n\r\n",
    "negative size": b"-5\r\nhello\r\n0\r\n\r\n",
    "0x prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "100 KB chunk extension": b"5;" + b"e" * 100_000 + b"\r\nhello\r\n0\r\n\r\n",
    "more data than declared": b"5\r\nhello, world\r\n0\r\n\r\n",
    "missing CRLF after data": b"5\r\nhello0\r\n\r\n",
    "Content-Length in the trailer": b"5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n",
}


def test_chunked_abuse_gets_a_4xx(spec, served):
    with sweep(served) as found:
        for route in write_routes(spec):
            head = (
                f"{route.method} {route.path} HTTP/1.1\r\nHost: {host(served)}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode()
            for case, body in CHUNKED_ABUSE.items():
                answer = exchange(served.port, head + body)
                found.check(f"{route} {case}", answer, problem_with_refusal(answer))
            # RFC 9112 §6.1: an unknown transfer coding gets 501 (a server SHOULD), or a 400.
            for coding in ("foo", "chunked, foo", "gzip, foo"):
                answer = exchange(served.port, head.replace(b"chunked", coding.encode()) + b"5\r\nhello\r\n0\r\n\r\n")
                found.check(
                    f"{route} Transfer-Encoding: {coding}", answer, problem_with_refusal(answer, statuses=(*range(400, 500), 501))
                )


def test_smuggled_requests_are_not_served(spec, served):
    """RFC 9112 §5.1 and §6.3: whitespace before a colon is a 400; a request with both
    Transfer-Encoding and Content-Length is refused, or its connection closed after it."""
    route = write_routes(spec)[0]
    hidden = f"GET /plaintext HTTP/1.1\r\nHost: {host(served)}\r\n\r\n".encode()
    with sweep(served) as found:
        # The body is `0\r\n\r\n`: 5 bytes, and an empty chunked body. Content-Length 5 ends it
        # where the chunked reading does, so the hidden request is clean under either reading.
        for case, framing in {
            "Transfer-Encoding : chunked with Content-Length 5": b"Content-Length: 5\r\nTransfer-Encoding : chunked\r\n",
            "Transfer-Encoding : chunked with Content-Length 4": b"Content-Length: 4\r\nTransfer-Encoding : chunked\r\n",
            "Transfer-Encoding: chunked with Content-Length 5": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "two Content-Length values": b"Content-Length: 5\r\nContent-Length: 0\r\n",
        }.items():
            data = (
                (f"{route.method} {route.path} HTTP/1.1\r\nHost: {host(served)}\r\nContent-Type: application/json\r\n").encode()
                + framing
                + b"\r\n0\r\n\r\n"
                + hidden
            )
            answer = exchange(served.port, data, linger=1.5)
            if answer.responses > 1 or b"Hello, World!" in answer.raw:
                found.fail(case, f"the hidden second request was served: {answer!r}")
            if case.startswith("Transfer-Encoding : "):
                found.check(case, answer, problem_with_refusal(answer))
            else:
                found.check(case, answer, problem_with_any_answer(answer))


# --- Host and proxy headers -----------------------------------------------------------------


def test_host_header_rules(spec, served):
    port = served.port
    with sweep(served) as found:
        answer = exchange(port, b"GET /json HTTP/1.1\r\nConnection: close\r\n\r\n")
        found.check("HTTP/1.1 without Host (RFC 9112 §3.2: 400)", answer, problem_with_refusal(answer, statuses=(400,)))
        answer = exchange(
            port, f"GET /json HTTP/1.1\r\nHost: {host(served)}\r\nHost: {EVIL}\r\nConnection: close\r\n\r\n".encode()
        )
        found.check("two Host headers (RFC 9112 §3.2: 400)", answer, problem_with_refusal(answer, statuses=(400,)))
        for case, value in {
            "10,000-character Host": "h" * 10_000,
            "Host ..": "..",
            "Host .": ".",
            "Host with a bad port": "127.0.0.1:99999x",
            "Host with a NUL": "a\x00b",
        }.items():
            answer = request(port, "GET", "/json", host=value)
            kind = "oversized" if len(value) > 1000 else None
            if unanswered(answer) and kind and (issue := header_refusal_lost(spec, kind)):
                record(spec, "host_cases_closed_without_an_answer", f"{case} ({issue})")
                continue
            found.check(case, answer, problem_with_any_answer(answer))


def test_a_foreign_host_is_refused_off_heroku(launch):
    """On a dyno an app answers any Host: Heroku's router only routes the app's own domains to
    it (heroku/python-getting-started's reasoning), so a foreign Host never arrives there.
    With an explicit list (ALLOWED_HOSTS, the default off Heroku) it is a 400, never a redirect
    that reflects it."""
    process = launch(env={"ALLOWED_HOSTS": "127.0.0.1"})
    with sweep(process) as found:
        for path in ("/other", "/json/", "/chat", "/api/polls/", "/notes/", "/static", "/testapp", "/fortunes/", "/whoami/"):
            answer = request(process.port, "GET", path, host=EVIL)
            found.check(f"GET {path} with Host: {EVIL}", answer, problem_with_refusal(answer, statuses=(400,)))
            if EVIL in answer.headers.get("location", ""):
                found.fail(f"GET {path} with Host: {EVIL}", f"redirects to {answer.headers['location']}")


def test_development_pages_are_not_served_in_production(served):
    """Werkzeug's test app prints every request header (cookies included), sys.path and versions."""
    with sweep(served) as found:
        for path in ("/testapp/", "/testapp"):
            answer = request(served.port, "GET", path, headers={"Cookie": "session=canary-7f3a"})
            found.check(f"GET {path}", answer, problem_with_any_answer(answer))
            if b"canary-7f3a" in answer.raw or b"sys.path" in answer.raw:
                found.fail(f"GET {path}", f"shows request headers or sys.path: {answer!r}")


def whoami(process, headers: dict) -> tuple[Answer, dict | None]:
    answer = request(process.port, "GET", "/whoami", headers=headers)
    try:
        return answer, json.loads(answer.body) if answer.status == 200 else None
    except ValueError:
        return answer, None


def test_forwarded_headers_fall_back_to_what_is_trustworthy(served):
    """Only the rightmost X-Forwarded-For / -Proto entry is the router's; an empty or
    unparsable one is no address at all, so the peer stands."""
    with sweep(served) as found:
        _, plain = whoami(served, {})
        peer = (plain or {}).get("ip", "127.0.0.1")
        expected_ip = {
            "6.6.6.6,": peer,
            "6.6.6.6, ": peer,
            "6.6.6.6, not-an-ip": peer,
            "6.6.6.6, ::ffff:203.0.113.9": "203.0.113.9",
            "6.6.6.6, 2001:db8::1": "2001:db8::1",
        }
        for value, ip in expected_ip.items():
            answer, body = whoami(served, {"X-Forwarded-For": value})
            if body is None or body.get("ip") != ip:
                found.fail(f"X-Forwarded-For: {value}", f"wanted ip {ip}, got {answer!r}")
        expected_scheme = {"gopher": "http", "<script>": "http", "https, http": "http", "http, https": "https", "https,": "http"}
        for value, scheme in expected_scheme.items():
            answer, body = whoami(served, {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": value})
            if body is None or body.get("scheme") != scheme:
                found.fail(f"X-Forwarded-Proto: {value}", f"wanted scheme {scheme}, got {answer!r}")
        answer, body = whoami(served, {"X-Forwarded-Proto": "a" * 10_000})
        if body is not None and body.get("scheme") not in ("http", "https"):
            found.fail("X-Forwarded-Proto of 10 KB", f"scheme echoed: {answer.raw[:300]!r}")
        found.check("X-Forwarded-Proto of 10 KB", answer, problem_with_any_answer(answer))
        # The framework's idea of the scheme agrees with /whoami's: no HSTS for plain http.
        answer = request(served.port, "GET", "/", headers={"X-Forwarded-Proto": "https, http"})
        if "strict-transport-security" in answer.headers:
            found.fail("GET / with X-Forwarded-Proto: https, http", "HSTS sent: the leftmost entry was trusted")


# --- JSON bodies ----------------------------------------------------------------------------


def json_with(route: WriteRoute, name: str, is_list: bool, fragment: str) -> bytes:
    """The route's example body with one string replaced by a raw JSON string literal."""
    body = dict(route.example)
    marker = "\u2603MARK\u2603"
    body[name] = [marker, *body.get(name, [])[1:]] if is_list else marker
    return json.dumps(body).replace(json.dumps(marker), fragment).encode()


def test_hostile_json_gets_a_short_4xx(spec, served):
    with sweep(served) as found:
        for route in write_routes(spec):
            if route.documented and "{" not in route.template:
                # Each case below changes one thing in the example: the example itself must pass.
                answer = post(served, route, json.dumps(route.example).encode())
                if not 200 <= answer.status < 300:
                    found.fail(f"{route} with its openapi example", f"not accepted, so the sweep proves nothing: {answer!r}")
            cases = {
                "100,000 nested [": b"[" * 100_000,
                '100,000 nested {"a":': b'{"a":' * 100_000,
                "50,000 keys": json.dumps({f"k{i}": i for i in range(50_000)}).encode(),
                "a 2 MiB string": json.dumps({"title": "a" * (2 * BODY_LIMIT)}).encode(),
                "invalid UTF-8": b'{"title": "\xff\xfe"}',
                "a number of 5,000 digits": b'{"title": ' + b"9" * 5000 + b"}",
            }
            for name, is_list in route.text_fields:
                cases[f"NUL in {name}"] = json_with(route, name, is_list, '"a\\u0000b"')
                cases[f"lone surrogate in {name}"] = json_with(route, name, is_list, '"a\\ud800b"')
                cases[f"raw NUL byte in {name}"] = json_with(route, name, is_list, '"a\x00b"')
            for name in route.time_fields:
                for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "10000-01-01T00:00:00+00:00"):
                    cases[f"{name} {moment}"] = json.dumps({**route.example, name: moment}).encode()
            for case, body in cases.items():
                answer = post(served, route, body)
                problem = refusal(route, answer)
                if route.documented and case == "a 2 MiB string" and not problem and answer.status != 413:
                    problem = f"status {answer.status}, wanted 413 for a body over 1 MiB"
                if not route.documented and case == "a 2 MiB string":
                    # A route that takes no body: the answer to a large one is measured (contract
                    # v2), any status below 500; uWSGI's router may reset it unanswered.
                    reset = behind_uwsgi_router(spec) and answer.closed and not answer.raw
                    problem = None if reset else problem_with_any_answer(answer)
                    record(
                        spec, "two_mib_json_on_a_route_without_body", f"reset ({UWSGI_ROUTER_ISSUE})" if reset else answer.status
                    )
                found.check(f"{route} {case}", answer, problem)


def test_declared_large_bodies_are_refused_without_waiting_for_them(spec, served):
    """A body over 1 MiB is refused at once, declared or streamed, on every route that takes one.

    That is a platform must-have only where a route takes a body (the app's openapi.yaml). An
    app without one is probed on POST /json: refusing there before routing is a measured
    figure (contract v2), since some servers (Daphne) read a whole body before the app runs;
    a 5xx or a traceback still fails.
    """
    refused_before_routing = 0
    with sweep(served) as found:
        for route in write_routes(spec):
            wanted = (413,) if route.documented else range(400, 500)

            def judge(case, answer, problem, route=route):
                nonlocal refused_before_routing
                if route.documented:
                    found.check(case, answer, problem)
                elif problem is None:
                    refused_before_routing += 1
                elif answer.status >= 500:
                    found.check(case, answer, problem)

            head = (
                f"{route.method} {route.path} HTTP/1.1\r\nHost: {host(served)}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {2 * BODY_LIMIT}\r\n"
            ).encode()
            answer = exchange(served.port, head + b"\r\n", timeout=5)
            judge(f"{route} declares 2 MiB, sends nothing", answer, problem_with_refusal(answer, statuses=wanted))
            answer = exchange(served.port, head + b"Expect: 100-continue\r\n\r\n", timeout=5)
            judge(f"{route} declares 2 MiB with Expect: 100-continue", answer, problem_with_refusal(answer, statuses=wanted))
            # Valid JSON (white space, then the example), so only its size can be the reason to refuse it.
            chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
            example = json.dumps(route.example).encode()
            chunked = (
                f"{route.method} {route.path} HTTP/1.1\r\nHost: {host(served)}\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode()
            body = chunk * 40 + b"%x\r\n%s\r\n0\r\n\r\n" % (len(example), example)
            answer = exchange(served.port, chunked + body, timeout=10)
            judge(f"{route} sends 2.5 MiB chunked", answer, problem_with_refusal(answer, statuses=wanted))
            # A chunked body has no declared size: the limit must stop the reading, not follow it.
            sent, answer = stream_until_answered(served.port, chunked, chunk, limit=STREAM_LIMIT)
            problem = problem_with_refusal(answer, statuses=wanted)
            if sent > STREAM_LIMIT // 2:
                problem = f"{sent >> 20} MiB taken in before an answer"
            judge(f"{route} streams up to {STREAM_LIMIT >> 20} MiB chunked", answer, problem)
            if not route.documented:
                record(spec, "large_body_refused_before_routing_of_4", refused_before_routing)
                record(spec, "large_body_streamed_mib_before_answer", sent >> 20)


def test_huge_ids_get_a_short_error(spec, served):
    paths = id_paths(spec)
    with sweep(served) as found:
        api = app_api(spec)
        targets = [concrete_path(api, path, api["paths"][path], "9" * 5000) for path in paths] or ["/json/" + "9" * 5000]
        targets += [concrete_path(api, path, api["paths"][path], "-1") for path in paths]
        for path in targets:
            answer = request(served.port, "GET", path)
            found.check(f"GET {path[:40]}…", answer, problem_with_refusal(answer, json_error=bool(paths)))


# --- methods --------------------------------------------------------------------------------


def get_routes(spec) -> list[str]:
    api = app_api(spec)
    own = [concrete_path(api, path, item) for path, item in api.get("paths", {}).items() if "get" in item]
    return ["/", "/json", "/plaintext", "/health", "/whoami", "/fortunes", "/db", *own]


def test_head_works_wherever_get_does(spec, served):
    """RFC 9110 §9.3.2: a server that answers GET answers HEAD the same way, without a body."""
    with sweep(served) as found:
        for path in get_routes(spec):
            expected = request(served.port, "GET", path).status
            answer = request(served.port, "HEAD", path)
            if answer.status >= 500 or not answer.status:
                found.fail(f"HEAD {path}", f"status {answer.status} (GET gives {expected})")
            elif answer.status != expected:
                found.fail(f"HEAD {path}", f"status {answer.status}, GET gives {expected}: {answer!r}")


def test_405_carries_allow(spec, served):
    """RFC 9110 §15.5.6: a 405 lists the methods the route takes."""
    api = app_api(spec)
    targets = [("DELETE", "/json", {"GET"}), ("PUT", "/whoami", {"GET"})]
    for path, item in api.get("paths", {}).items():
        documented = {method.upper() for method in item if method in ("get", "post", "put", "patch", "delete")}
        unused = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in documented)
        targets.append((unused, concrete_path(api, path, item), documented))
    with sweep(served) as found:
        for method, path, documented in targets:
            answer = request(served.port, method, path, headers={"Content-Type": "application/json"})
            allowed = {m.strip().upper() for m in answer.headers.get("allow", "").split(",") if m.strip()}
            if answer.status != 405 or not documented <= allowed:
                found.fail(f"{method} {path}", f"wanted 405 with Allow ⊇ {sorted(documented)}: {answer!r}")


# --- cross-site writes ----------------------------------------------------------------------


@pytest.mark.feature("json-writes")
def test_cross_site_writes_are_refused(spec, served):
    """An HTML form on another site can send text/plain, urlencoded or multipart bodies
    without a CORS preflight: a JSON write route refuses all three (apps with write routes only:
    elsewhere POST /json refuses every body with 405, which proves nothing)."""
    origin = {"Origin": f"http://{EVIL}", "Referer": f"http://{EVIL}/form"}
    with sweep(served) as found:
        for route in write_routes(spec):
            example = json.dumps(route.example).encode()
            fields = "&".join(f"{k}={v}" for k, v in route.example.items() if isinstance(v, str)) or "a=b"
            boundary = "x7hostile"
            multipart = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n{example.decode()}\r\n--{boundary}--\r\n'
            ).encode()
            for content_type, body in {
                "text/plain": example,
                "application/x-www-form-urlencoded": fields.encode(),
                f"multipart/form-data; boundary={boundary}": multipart,
            }.items():
                answer = post(served, route, body, content_type, origin)
                found.check(f"{route} {content_type.split(';')[0]} from {EVIL}", answer, refusal(route, answer))


# --- slow clients ---------------------------------------------------------------------------

SLOW_CONNECTIONS = 50
IDLE_CONNECTIONS = 500
NORMAL_REQUESTS = 9
DRIP_SECONDS = 2.0
CONNECT_BUDGET = 2.0
SETTLE_SECONDS = 0.5
WINDOW_SECONDS = 3.0  # each normal request's time to be answered while the attackers stay


# "9/9 answered", "0 to 5 of 9 normal requests": a slow-client figure written into a README.
SLOW_CLIENT_FIGURE = re.compile(rf"\b\d+(?: to \d+)?(?:/| of ){NORMAL_REQUESTS}\b")


def test_readmes_state_no_slow_client_figure():
    """The slow-client figures are measured on each run and printed (tests/.results/
    measurements.json); a README that copied one would claim what no test holds it to."""
    readmes = [Path(spec.path) / "README.md" for spec in discover()] + [REPO / "README.md"]
    found = [
        f"{readme.relative_to(REPO)}:{number}: {line.strip()}"
        for readme in readmes
        if readme.exists()
        for number, line in enumerate(readme.read_text().splitlines(), 1)
        if SLOW_CLIENT_FIGURE.search(line)
    ]
    assert not found, "slow-client figures belong to the suite's output, not a README:\n" + "\n".join(found)


def normal_requests_answered(url: str, window: float) -> int:
    """NORMAL_REQUESTS requests at once from a fresh client: how many got a 200 within `window` s."""

    def one(_):
        try:
            return httpx.get(url + "/json", timeout=window).status_code == 200
        except httpx.HTTPError:
            return False

    pool = ThreadPoolExecutor(NORMAL_REQUESTS)
    futures = [pool.submit(one, i) for i in range(NORMAL_REQUESTS)]
    done, _ = wait(futures, timeout=window)
    pool.shutdown(wait=False, cancel_futures=True)  # stragglers end on their own timeout
    return sum(1 for future in done if future.result())


def attack(process, route: WriteRoute, mode: str, seconds: float) -> int:
    """Hold the attackers open for `seconds` while normal requests try their luck."""
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        count = IDLE_CONNECTIONS if mode == "idle" else SLOW_CONNECTIONS
        connecting_until = time.monotonic() + CONNECT_BUDGET  # a full backlog makes connect() wait
        while len(sockets) < count and time.monotonic() < connecting_until:
            with suppress(OSError):
                sockets.append(connect(process.port, timeout=0.5))
        if mode == "headers":
            pending = [f"GET /json HTTP/1.1\r\nHost: {host(process)}\r\nX-Slow: ".encode() for _ in sockets]
        elif mode == "uploads":
            head = (
                f"{route.method} {route.path} HTTP/1.1\r\nHost: {host(process)}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            ).encode()
            for sock in sockets:  # the head at once, then the body a byte at a time
                with suppress(OSError):
                    sock.sendall(head)
            pending = [b" " * 100_000 for _ in sockets]
        else:
            pending = [b"" for _ in sockets]

        def drip():
            offset = 0
            while not stop.wait(DRIP_SECONDS if offset else 0):
                for sock, data in zip(sockets, pending, strict=True):
                    with suppress(OSError):
                        sock.send(data[offset : offset + 1])
                offset += 1

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        time.sleep(SETTLE_SECONDS)  # let the server's workers pick the attackers up
        answered = normal_requests_answered(process.url, window=seconds)
        stop.set()
        dripper.join(timeout=DRIP_SECONDS + 1)
        return answered
    finally:
        stop.set()
        for sock in sockets:
            sock.close()


def test_slow_clients_are_measured(spec, launch):
    """50 clients sending a header byte every 2 s, 50 uploads sending a body byte every 2 s,
    500 idle connections: how many of 9 normal requests are answered meanwhile (measured,
    printed, never failed). After the attackers leave, every app must answer again."""
    process = launch()
    route = write_routes(spec)[0]
    answered = {}
    with sweep(process) as found:
        for mode in ("headers", "uploads", "idle"):
            answered[mode] = attack(process, route, mode, seconds=WINDOW_SECONDS)
            record(spec, f"slow_{mode}_answered_of_{NORMAL_REQUESTS}", answered[mode])
        # The same attackers behind the router stand-in, which buffers headers and bodies as
        # Heroku's does (harness/router.py): what a Heroku user gets, measured, not failed.
        # A Heroku app name has no underscore (a host name cannot: Django refuses one).
        app_name = spec.name.replace("_", "-")
        router = Router(process.port, f"{app_name}-{secrets.token_hex(6)}.herokuapp.com").start()
        try:
            for mode in ("headers", "uploads", "idle"):
                behind = SimpleNamespace(port=router.port, url=router.url)
                answered_behind = attack(behind, route, mode, seconds=WINDOW_SECONDS)
                record(spec, f"slow_{mode}_answered_of_{NORMAL_REQUESTS}_behind_router", answered_behind)
        finally:
            router.stop()
        after = normal_requests_answered(process.url, window=5.0)
        if after != NORMAL_REQUESTS:
            found.fail("after the slow clients left", f"{after} of {NORMAL_REQUESTS} normal requests answered in 5 s")
    started = time.monotonic()
    process.stop()
    record(spec, "slow_then_sigterm_exit_seconds", time.monotonic() - started)
