"""Check each route's answer before it is timed: a wrong answer is never timed.

The checks follow tests/contract/CONTRACT.md (status, content type, body shape); they are
not the shared suite's full contract tests, only enough that a benchmark of a broken
route cannot look like a fast one.
"""

from __future__ import annotations

import html
import re

import httpx

HELLO = "Hello, World!"
EXTRA_FORTUNE = "Additional fortune added at request time."
ROW = re.compile(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*</tr>", re.S)


class WrongAnswer(Exception):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise WrongAnswer(message)


def _content_type(response: httpx.Response, expected: str) -> None:
    value = response.headers.get("content-type", "")
    _expect(value.split(";")[0].strip().lower() == expected, f"content-type {value!r}, expected {expected}")


def _world(row, where: str) -> dict:
    _expect(isinstance(row, dict) and set(row) == {"id", "randomNumber"}, f"{where}: not a world row: {row!r}")
    _expect(isinstance(row["id"], int) and 1 <= row["id"] <= 10000, f"{where}: id {row['id']!r}")
    _expect(
        isinstance(row["randomNumber"], int) and 1 <= row["randomNumber"] <= 10000,
        f"{where}: randomNumber {row['randomNumber']!r}",
    )
    return row


def check_plaintext(response: httpx.Response, **_) -> None:
    _content_type(response, "text/plain")
    _expect(response.text == HELLO, f"body {response.text[:80]!r}")


def check_json(response: httpx.Response, **_) -> None:
    _content_type(response, "application/json")
    _expect(response.json() == {"message": HELLO}, f"body {response.text[:80]!r}")


def check_db(response: httpx.Response, **_) -> None:
    _content_type(response, "application/json")
    _world(response.json(), "/db")


def check_queries(response: httpx.Response, count: int = 20, **_) -> list[dict]:
    _content_type(response, "application/json")
    rows = response.json()
    _expect(isinstance(rows, list) and len(rows) == count, f"expected a list of {count} rows: {response.text[:80]!r}")
    return [_world(row, "row") for row in rows]


def check_updates(response: httpx.Response, count: int = 20, database=None, **_) -> None:
    rows = check_queries(response, count)
    if database is not None:  # what was answered is what is stored (last write of a repeated id wins)
        answered = {row["id"]: row["randomNumber"] for row in rows}
        stored = dict(database.query("SELECT id, randomnumber FROM world WHERE id = ANY(%s)", list(answered)))
        _expect(stored == answered, "the rows answered by /updates are not the rows stored")


def check_fortunes(response: httpx.Response, **_) -> None:
    _content_type(response, "text/html")
    _expect(
        "charset=utf-8" in response.headers.get("content-type", "").lower().replace(" ", ""), "content-type without charset=utf-8"
    )
    body = response.text
    _expect("<table>" in body and "</table>" in body, "no <table>")
    rows = ROW.findall(body)
    _expect(len(rows) == 13, f"{len(rows)} fortune rows, expected 13")
    messages = [html.unescape(message) for _, message in rows]
    _expect(EXTRA_FORTUNE in messages, "no fortune added at request time")
    _expect(messages == sorted(messages), "fortunes not sorted by message")
    _expect("&lt;script&gt;" in body and "<script>" not in body, "a fortune is not HTML-escaped")


CHECKS = {
    "/plaintext": check_plaintext,
    "/json": check_json,
    "/db": check_db,
    "/queries?queries=20": check_queries,
    "/fortunes": check_fortunes,
    "/updates?queries=20": check_updates,
}


def verify(base_url: str, route: str, database=None) -> str | None:
    """None when the route answers as the contract says, else the reason."""
    check = CHECKS.get(route)
    try:
        response = httpx.get(base_url + route, timeout=10.0, trust_env=False)
        if response.status_code != 200:
            return f"status {response.status_code}: {response.text[:120]!r}"
        if check is not None:
            check(response, database=database)
    except (WrongAnswer, httpx.HTTPError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
