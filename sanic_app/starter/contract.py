"""The routes every app of the repository serves (tests/contract/CONTRACT.md)."""

from __future__ import annotations

import ipaddress
import random
from html import escape

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json, text

from .db import Database

bp = Blueprint("contract")

WORLD_ROWS = 10_000
MAX_QUERIES = 500
EXTRA_FORTUNE = "Additional fortune added at request time."

# Every query goes through asyncpg's extended protocol: each distinct statement is
# prepared once per connection and kept in that connection's statement cache, so the
# loops below re-execute a prepared statement. (Connection.prepare() would skip the
# cache and cost a Parse round trip per request.)
SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
UPDATE_WORLD = "UPDATE world SET randomnumber = $2 WHERE id = $1"
SELECT_FORTUNES = "SELECT id, message FROM fortune"


def query_count(raw: str | None) -> int:
    """Missing, empty, not an integer or below 1 -> 1; above 500 -> 500."""
    try:
        count = int(raw or "")
    except ValueError:
        return 1
    return min(max(count, 1), MAX_QUERIES)


def random_number() -> int:
    """A world id or a new randomNumber: both are 1..10000.

    Benchmark data, not a secret: the fast PRNG is the right tool."""
    return random.randint(1, WORLD_ROWS)  # noqa: S311


def db(request: Request) -> Database:
    return request.app.ctx.db


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    return html(HOME_PAGE)


@bp.get("/health")
async def health(request: Request) -> HTTPResponse:
    checks = {
        "database": await db(request).check(),
        # This app has no use for Redis; REDIS_URL may be set on the app and is ignored.
        "redis": "not configured",
    }
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return json({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


@bp.get("/json")
async def hello_json(request: Request) -> HTTPResponse:
    return json({"message": "Hello, World!"})


@bp.get("/plaintext")
async def plaintext(request: Request) -> HTTPResponse:
    return text("Hello, World!")


@bp.get("/db")
async def single_query(request: Request) -> HTTPResponse:
    async with db(request).connection() as conn:
        row = await conn.fetchrow(SELECT_WORLD, random_number())
    return json({"id": row["id"], "randomNumber": row["randomnumber"]})


@bp.get("/queries")
async def multiple_queries(request: Request) -> HTTPResponse:
    count = query_count(request.args.get("queries"))
    async with db(request).connection() as conn:
        rows = [await conn.fetchrow(SELECT_WORLD, random_number()) for _ in range(count)]
    return json([{"id": row["id"], "randomNumber": row["randomnumber"]} for row in rows])


@bp.get("/updates")
async def updates(request: Request) -> HTTPResponse:
    count = query_count(request.args.get("queries"))
    ids = [random_number() for _ in range(count)]
    # An id drawn twice gets one new value, so the response shows what is stored.
    new_numbers = {world_id: random_number() for world_id in ids}
    async with db(request).connection() as conn:
        for world_id in ids:
            await conn.fetchrow(SELECT_WORLD, world_id)
        # executemany sends every UPDATE in one pipeline ending in a single Sync, so
        # they run as one implicit transaction (all or nothing) without the two extra
        # round trips of BEGIN and COMMIT while the pooled connection is held. Rows are
        # locked in ascending id order: concurrent requests may wait on each other but
        # never deadlock.
        await conn.executemany(UPDATE_WORLD, sorted(new_numbers.items()))
    return json([{"id": world_id, "randomNumber": new_numbers[world_id]} for world_id in ids])


@bp.get("/fortunes")
async def fortunes(request: Request) -> HTTPResponse:
    async with db(request).connection() as conn:
        rows = [(row["id"], row["message"]) for row in await conn.fetch(SELECT_FORTUNES)]
    rows.append((0, EXTRA_FORTUNE))
    rows.sort(key=lambda row: row[1])
    table_rows = "".join(f"<tr><td>{fortune_id}</td><td>{escape(message)}</td></tr>" for fortune_id, message in rows)
    return html(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{table_rows}</table></body></html>"
    )


@bp.get("/whoami")
async def whoami(request: Request) -> HTTPResponse:
    # With PROXIES_COUNT = 1 Sanic takes the rightmost X-Forwarded-For entry, the one
    # Heroku's router appended; it brackets IPv6 addresses, which we strip.
    ip = (request.remote_addr or request.ip).strip("[]")
    return json({"ip": unmapped(ip), "scheme": forwarded_scheme(request)})


def unmapped(ip: str) -> str:
    """The dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d; show a.b.c.d."""
    try:
        mapped = ipaddress.IPv6Address(ip).ipv4_mapped
    except ValueError:
        return ip
    return str(mapped) if mapped else ip


def forwarded_scheme(request: Request) -> str:
    """The rightmost X-Forwarded-Proto entry (the router's), "http" without one.

    Sanic reads X-Forwarded-Proto only when it also found an X-Forwarded-For address,
    and takes the header whole, so the router's value is picked out here."""
    entries = [entry.strip().lower() for header in request.headers.getall("x-forwarded-proto", []) for entry in header.split(",")]
    entries = [entry for entry in entries if entry]
    if entries and entries[-1] in ("http", "https"):
        return entries[-1]
    return "https" if request.conn_info and request.conn_info.ssl else "http"


HOME_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sanic on Heroku</title></head>
<body>
<h1>Sanic on Heroku</h1>
<p>A Sanic server started by <code>python web.py</code> with one worker process per
<code>WEB_CONCURRENCY</code>, each holding an asyncpg pool sized so that all workers
together leave room for the release phase and a psql session within
<code>DATABASE_CONNECTION_LIMIT</code>. Migrations run in the <code>release:</code> phase.</p>
<ul>
<li><a href="/health">/health</a>: database and Redis checks</li>
<li><a href="/json">/json</a> and <a href="/plaintext">/plaintext</a></li>
<li><a href="/db">/db</a>, <a href="/queries?queries=5">/queries?queries=5</a>,
<a href="/updates?queries=5">/updates?queries=5</a></li>
<li><a href="/fortunes">/fortunes</a>: escaped HTML from the database</li>
<li><a href="/whoami">/whoami</a>: the client behind Heroku's router</li>
<li><a href="/notes">/notes</a>: a small JSON resource (POST, GET, DELETE)</li>
</ul>
</body>
</html>
"""
