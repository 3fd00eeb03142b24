"""The routes every app of the repository serves alike (tests/contract/CONTRACT.md)."""

import random

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import bindparam, select, update

from .models import Fortune, World, db
from .proxy import client_address

bp = Blueprint("contract", __name__)

MAX_QUERIES = 500
ROW_COUNT = 10000
EXTRA_FORTUNE = "Additional fortune added at request time."

find_world = select(World.id, World.randomnumber).where(World.id == bindparam("id"))
store_world = (
    update(World.__table__)
    .where(World.__table__.c.id == bindparam("row_id"))
    .values(randomnumber=bindparam("number"))
)


def query_count() -> int:
    """Missing, empty, not an integer or below 1 → 1; above 500 → 500."""
    try:
        count = int(request.args.get("queries", "1"))
    except ValueError:
        return 1
    return min(max(count, 1), MAX_QUERIES)


def random_id() -> int:
    return random.randint(1, ROW_COUNT)  # noqa: S311 - test data, not a secret


def read_only() -> None:
    """Run this request's reads in autocommit: no BEGIN before them, no ROLLBACK after.

    The contract's read routes are single SELECTs that need no transaction, and on
    Postgres each BEGIN and each reset-on-return ROLLBACK is one more round trip
    to the server. Under gthread that is not a free wait: every round trip hands
    the GIL back and queues for it again behind the other request threads, so
    /db went from 4 round trips (pre-ping, BEGIN, SELECT, ROLLBACK) to 2.
    Must run before the session's first statement; the pool puts the connection
    back in transactional mode when it is returned (no round trip either).
    """
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def fetch_world(row_id: int) -> dict:
    row = db.session.execute(find_world, {"id": row_id}).one()
    return {"id": row.id, "randomNumber": row.randomnumber}


@bp.get("/json")
def json_message():
    return jsonify(message="Hello, World!")


@bp.get("/plaintext")
def plaintext():
    return Response("Hello, World!", mimetype="text/plain")


@bp.get("/db")
def single_query():
    read_only()
    return jsonify(fetch_world(random_id()))


@bp.get("/queries")
def multiple_queries():
    read_only()
    return jsonify([fetch_world(random_id()) for _ in range(query_count())])


@bp.get("/updates")
def updates():
    # Every id drawn, duplicates included, gets its own SELECT and its own UPDATE
    # (as TechEmpower's verifier counts them), in ascending id order inside one
    # transaction: two concurrent requests take their row locks in the same
    # order and cannot deadlock.
    ids = sorted(random_id() for _ in range(query_count()))
    worlds = [fetch_world(row_id) for row_id in ids]
    for world in worlds:
        world["randomNumber"] = random.randint(1, ROW_COUNT)  # noqa: S311
    db.session.execute(
        store_world, [{"row_id": w["id"], "number": w["randomNumber"]} for w in worlds]
    )
    db.session.commit()
    # An id drawn twice holds its last number: show that in every entry for it.
    stored = {world["id"]: world["randomNumber"] for world in worlds}
    return jsonify([{"id": w["id"], "randomNumber": stored[w["id"]]} for w in worlds])


@bp.get("/fortunes")
def fortunes():
    read_only()
    rows = [(f.id, f.message) for f in db.session.execute(select(Fortune)).scalars()]
    rows.append((0, EXTRA_FORTUNE))
    rows.sort(key=lambda row: row[1])
    return render_template("fortunes.html", fortunes=rows)


@bp.get("/whoami")
def whoami():
    # ProxyFix has already replaced the router's address with the rightmost
    # X-Forwarded-For entry and the scheme with the rightmost X-Forwarded-Proto.
    scheme = request.scheme if request.scheme in ("http", "https") else "http"
    return jsonify(ip=client_address(), scheme=scheme)
