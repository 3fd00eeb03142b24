"""The routes every app of the repository serves (the shared HTTP contract)."""

import contextlib
import ipaddress
import random
from html import escape

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json, text

from . import db

bp = Blueprint("contract")
GET_HEAD = ("GET", "HEAD")  # RFC 9110 9.1: whatever answers GET answers HEAD

WORLD_ROWS, MAX_QUERIES = 10_000, 500
EXTRA_FORTUNE = "Additional fortune added at request time."
# asyncpg prepares each statement once per connection; the loops below reuse it.
SELECT_WORLD = "SELECT id, randomnumber FROM world WHERE id = $1"
UPDATE_WORLD = "UPDATE world SET randomnumber = $2 WHERE id = $1"
SELECT_FORTUNES = "SELECT id, message FROM fortune"


def query_count(raw: str | None) -> int:
    """Missing, empty, not an integer or below 1 -> 1; above 500 -> 500."""
    try:
        return min(max(int(raw or ""), 1), MAX_QUERIES)
    except ValueError:
        return 1


def random_number() -> int:
    return random.randint(1, WORLD_ROWS)  # noqa: S311 (benchmark data, not a secret)


@bp.route("/", methods=GET_HEAD)
async def home(request: Request) -> HTTPResponse:
    return html(HOME_PAGE)


@bp.route("/health", methods=GET_HEAD)
async def health(request: Request) -> HTTPResponse:
    # No use for Redis here: REDIS_URL may be set and is ignored.
    checks = {"database": await db.check(request), "redis": "not configured"}
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
    # Every id drawn, duplicates included, gets its own SELECT and UPDATE (TechEmpower's
    # verifier counts both), in ascending order in one transaction: no deadlocks, and the
    # last entry for an id is the value stored.
    ids = sorted(random_number() for _ in range(query_count(request.args.get("queries"))))
    async with db.connection(request) as conn, conn.transaction():
        worlds = [
            {"id": (await conn.fetchrow(SELECT_WORLD, world_id))["id"], "randomNumber": random_number()} for world_id in ids
        ]
        # One pipelined round trip for the UPDATEs, each its own statement.
        await conn.executemany(UPDATE_WORLD, [(world["id"], world["randomNumber"]) for world in worlds])
    return json(worlds)


@bp.route("/fortunes", methods=GET_HEAD)
async def fortunes(request: Request) -> HTTPResponse:
    async with db.connection(request) as conn:
        rows = [(row["id"], row["message"]) for row in await conn.fetch(SELECT_FORTUNES)]
    rows.append((0, EXTRA_FORTUNE))
    rows.sort(key=lambda row: row[1])
    cells = "".join(f"<tr><td>{fortune_id}</td><td>{escape(message)}</td></tr>" for fortune_id, message in rows)
    return html(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{cells}</table></body></html>"
    )


@bp.route("/whoami", methods=GET_HEAD)
async def whoami(request: Request) -> HTTPResponse:
    """The rightmost X-Forwarded-For and -Proto entries, the ones Heroku's router appended (a
    client controls everything left of them); the peer and its scheme when they are unusable."""
    forwarded = ",".join(request.headers.getall("x-forwarded-for", [])).rsplit(",", 1)[-1]
    ip = request.ip
    with contextlib.suppress(ValueError):
        ip = str(ipaddress.ip_address(forwarded.strip().strip("[]")))
    with contextlib.suppress(ValueError):  # the dual-stack socket sees IPv4 as ::ffff:a.b.c.d
        ip = str(ipaddress.IPv6Address(ip.strip("[]")).ipv4_mapped or ip)
    protos = ",".join(request.headers.getall("x-forwarded-proto", [])).rsplit(",", 1)[-1].strip().lower()
    scheme = protos if protos in ("http", "https") else "https" if request.conn_info and request.conn_info.ssl else "http"
    return json({"ip": ip, "scheme": scheme})


LINKS = ["/health", "/json", "/plaintext", "/db", "/queries?queries=5", "/updates?queries=5", "/fortunes", "/whoami", "/notes"]
HOME_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sanic on Heroku</title></head><body>'
    "<h1>Sanic on Heroku</h1><ul>" + "".join(f'<li><a href="{link}">{link}</a></li>' for link in LINKS) + "</ul></body></html>"
)
