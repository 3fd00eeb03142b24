"""The routes every app of the repository serves (tests/contract/CONTRACT.md)."""

from __future__ import annotations

import ipaddress
import random
from html import escape

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json, text

from . import db

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
# RFC 9110 section 9.1: every resource that answers GET answers HEAD (Sanic strips the body).
GET_HEAD = ("GET", "HEAD")


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


@bp.route("/", methods=GET_HEAD)
async def home(request: Request) -> HTTPResponse:
    return html(HOME_PAGE)


@bp.route("/health", methods=GET_HEAD)
async def health(request: Request) -> HTTPResponse:
    checks = {
        "database": await db.check(request),
        # This app has no use for Redis; REDIS_URL may be set on the app and is ignored.
        "redis": "not configured",
    }
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return json({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


@bp.route("/json", methods=GET_HEAD)
async def hello_json(request: Request) -> HTTPResponse:
    return json({"message": "Hello, World!"})


@bp.route("/plaintext", methods=GET_HEAD)
async def plaintext(request: Request) -> HTTPResponse:
    return text("Hello, World!")


@bp.route("/db", methods=GET_HEAD)
async def single_query(request: Request) -> HTTPResponse:
    async with db.connection(request) as conn:
        row = await conn.fetchrow(SELECT_WORLD, random_number())
    return json({"id": row["id"], "randomNumber": row["randomnumber"]})


@bp.route("/queries", methods=GET_HEAD)
async def multiple_queries(request: Request) -> HTTPResponse:
    count = query_count(request.args.get("queries"))
    async with db.connection(request) as conn:
        rows = [await conn.fetchrow(SELECT_WORLD, random_number()) for _ in range(count)]
    return json([{"id": row["id"], "randomNumber": row["randomnumber"]} for row in rows])


@bp.route("/updates", methods=GET_HEAD)
async def updates(request: Request) -> HTTPResponse:
    count = query_count(request.args.get("queries"))
    # Every id drawn gets its own SELECT and its own UPDATE, an id drawn twice included
    # (TechEmpower's verifier counts both). Ascending id order inside one transaction:
    # concurrent requests lock rows in the same order, so they may wait on each other
    # but never deadlock, and the last entry for an id is the value stored.
    ids = sorted(random_number() for _ in range(count))
    async with db.connection(request) as conn, conn.transaction():
        worlds = []
        for world_id in ids:
            row = await conn.fetchrow(SELECT_WORLD, world_id)
            worlds.append({"id": row["id"], "randomNumber": random_number()})
        # One pipelined round trip for the UPDATEs, each its own statement.
        await conn.executemany(UPDATE_WORLD, [(world["id"], world["randomNumber"]) for world in worlds])
    return json(worlds)


@bp.route("/fortunes", methods=GET_HEAD)
async def fortunes(request: Request) -> HTTPResponse:
    async with db.connection(request) as conn:
        rows = [(row["id"], row["message"]) for row in await conn.fetch(SELECT_FORTUNES)]
    rows.append((0, EXTRA_FORTUNE))
    rows.sort(key=lambda row: row[1])
    table_rows = "".join(f"<tr><td>{fortune_id}</td><td>{escape(message)}</td></tr>" for fortune_id, message in rows)
    return html(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{table_rows}</table></body></html>"
    )


@bp.route("/whoami", methods=GET_HEAD)
async def whoami(request: Request) -> HTTPResponse:
    return json({"ip": client_ip(request), "scheme": forwarded_scheme(request)})


def client_ip(request: Request) -> str:
    """The rightmost X-Forwarded-For entry (the one Heroku's router appended), or the
    peer when that entry is missing, empty or not an address: a client can put
    anything left of it, and an empty last entry must not promote the one before."""
    forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
    for candidate in (forwarded.rsplit(",", 1)[-1].strip().strip("[]"), request.ip.strip("[]")):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        # The dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d; show a.b.c.d.
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    return request.ip


def forwarded_scheme(request: Request) -> str:
    """The rightmost X-Forwarded-Proto entry (the router's) if it is http or https;
    otherwise the connection's own scheme."""
    entries = [entry.strip().lower() for header in request.headers.getall("x-forwarded-proto", []) for entry in header.split(",")]
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
