"""The common HTTP contract (contract/CONTRACT.md), route by route, on one running instance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import httpx
import pytest

from harness.http import leaks

CONTRACT_ROUTES = ["/", "/health", "/json", "/plaintext", "/db", "/queries", "/updates", "/fortunes", "/whoami"]
ADDITIONAL_FORTUNE = (0, "Additional fortune added at request time.")


def get(served, path, **kwargs) -> httpx.Response:
    return httpx.get(served.url + path, timeout=10, **kwargs)


def assert_common_headers(response: httpx.Response) -> None:
    for header in ("Server", "Date", "Content-Type"):
        assert header in response.headers, f"{response.request.url.path}: no {header} header"
    chunked = "chunked" in response.headers.get("Transfer-Encoding", "")
    assert "Content-Length" in response.headers or chunked, "neither Content-Length nor chunked encoding"


@pytest.mark.parametrize("path", ["/", "/health", "/json", "/plaintext", "/db", "/queries?queries=2",
                                  "/updates?queries=2", "/fortunes", "/whoami"])
def test_every_route_carries_the_common_headers(served, path):
    response = get(served, path)
    assert response.status_code == 200, response.text
    assert_common_headers(response)


def test_json(served):
    response = get(served, "/json")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"message": "Hello, World!"}


def test_plaintext(served):
    response = get(served, "/plaintext")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == "Hello, World!"


def test_health_reports_each_dependency(served):
    response = get(served, "/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] in ("ok", "not configured")


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = set()

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.add(href.split("?")[0])


def test_home_page_links_every_contract_route(served):
    response = get(served, "/")
    assert response.headers["Content-Type"].startswith("text/html")
    parser = Links()
    parser.feed(response.text)
    missing = set(CONTRACT_ROUTES) - {"/"} - parser.hrefs
    assert not missing, f"home page does not link {sorted(missing)}"


def world(served, ids) -> dict[int, int]:
    rows = served.database.query("SELECT id, randomnumber FROM world WHERE id = ANY(%s)", list(ids))
    return dict(rows)


def assert_world_row(row) -> None:
    assert set(row) == {"id", "randomNumber"}
    assert isinstance(row["id"], int) and 1 <= row["id"] <= 10000
    assert isinstance(row["randomNumber"], int) and 1 <= row["randomNumber"] <= 10000


def test_world_is_seeded(served):
    assert served.database.query("SELECT count(*), min(id), max(id) FROM world") == [(10000, 1, 10000)]


def test_db_returns_a_stored_row(served):
    row = get(served, "/db").json()
    assert_world_row(row)
    assert world(served, [row["id"]]) == {row["id"]: row["randomNumber"]}


@pytest.mark.parametrize("route", ["/queries", "/updates"])
@pytest.mark.parametrize(("query", "count"), [
    ("", 1), ("?queries=", 1), ("?queries=foo", 1), ("?queries=0", 1), ("?queries=-3", 1),
    ("?queries=1.5", 1), ("?queries=7", 7), ("?queries=500", 500), ("?queries=501", 500),
    ("?queries=99999999999999999999", 500), ("?queries=%00", 1),
])
def test_queries_parameter_is_clamped(served, route, query, count):
    response = get(served, route + query)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert isinstance(rows, list) and len(rows) == count
    for row in rows:
        assert_world_row(row)


def test_updates_are_persisted_before_the_response(served):
    rows = get(served, "/updates?queries=20").json()
    once = {row["id"]: row["randomNumber"] for row in rows if [r["id"] for r in rows].count(row["id"]) == 1}
    assert world(served, once) == once


def test_concurrent_updates_all_succeed(served):
    def update(_):
        return httpx.get(served.url + "/updates?queries=20", timeout=30).status_code

    with ThreadPoolExecutor(64) as pool:
        statuses = list(pool.map(update, range(128)))
    assert statuses == [200] * 128, {s: statuses.count(s) for s in set(statuses)}


class FortuneTable(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self._row, self._cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag == "td":
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append((int(self._row[0]), self._row[1]))
            self._row = None


def test_fortunes_are_sorted_escaped_and_complete(served):
    response = get(served, "/fortunes")
    assert response.headers["Content-Type"].lower().replace(" ", "") == "text/html;charset=utf-8"
    stored = served.database.query("SELECT id, message FROM fortune")
    assert len(stored) >= 12
    table = FortuneTable()
    table.feed(response.text)
    assert table.rows == sorted([*stored, ADDITIONAL_FORTUNE], key=lambda row: row[1])
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text
    assert "日本語" in response.text


def test_fortunes_seed_has_markup_and_non_ascii(served):
    messages = [row[0] for row in served.database.query("SELECT message FROM fortune")]
    assert any("<script>" in message for message in messages)
    assert any(not message.isascii() for message in messages)


def test_unknown_path_is_404_with_a_message(served):
    response = get(served, "/no/such/page")
    assert response.status_code == 404
    assert response.content and not leaks(response.text)
    assert_common_headers(response)


def test_wrong_method_is_405_with_allow(served):
    response = httpx.post(served.url + "/plaintext", timeout=10)
    assert response.status_code == 405
    assert "GET" in response.headers.get("Allow", "")
    assert response.content and not leaks(response.text)


def test_whoami_without_proxy_headers_is_the_peer(served):
    assert get(served, "/whoami").json() == {"ip": "127.0.0.1", "scheme": "http"}


def test_whoami_trusts_only_the_rightmost_forwarded_entry(served):
    body = get(served, "/whoami", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9",
                                           "X-Forwarded-Proto": "https"}).json()
    assert body == {"ip": "203.0.113.9", "scheme": "https"}


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_port_answers_on_ipv4_and_ipv6(served, host):
    response = httpx.get(f"http://{host}:{served.port}/plaintext", timeout=10,
                         headers={"Host": f"127.0.0.1:{served.port}"})
    assert response.text == "Hello, World!"

