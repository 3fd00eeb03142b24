"""The TechEmpower-style routes every app of this project serves alike."""

import random

from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import bindparam, select, update

from .models import Fortune, World, db
from .proxy import client_address, client_scheme

bp = Blueprint("contract", __name__)

MAX_QUERIES, ROW_COUNT = 500, 10000
EXTRA_FORTUNE = "Additional fortune added at request time."

find_world = select(World.id, World.randomnumber).where(World.id == bindparam("id"))
store_world = update(World.__table__).where(World.id == bindparam("row_id")).values(randomnumber=bindparam("number"))


def query_count() -> int:
    """Missing, empty, not an integer or below 1 → 1; above 500 → 500."""
    count = request.args.get("queries", 1, type=int)
    return min(max(count, 1), MAX_QUERIES)


def random_id() -> int:
    return random.randint(1, ROW_COUNT)  # noqa: S311 - test data, not a secret


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
    return jsonify(fetch_world(random_id()))


@bp.get("/queries")
def multiple_queries():
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
        world["randomNumber"] = random_id()
    db.session.execute(store_world, [{"row_id": w["id"], "number": w["randomNumber"]} for w in worlds])
    db.session.commit()
    # An id drawn twice holds its last number: show that in every entry for it.
    stored = {world["id"]: world["randomNumber"] for world in worlds}
    return jsonify([{"id": w["id"], "randomNumber": stored[w["id"]]} for w in worlds])


@bp.get("/fortunes")
def fortunes():
    rows = [(f.id, f.message) for f in db.session.scalars(select(Fortune))]
    rows.append((0, EXTRA_FORTUNE))
    rows.sort(key=lambda row: row[1])
    return render_template("fortunes.html", fortunes=rows)


@bp.get("/whoami")
def whoami():
    return jsonify(ip=client_address(), scheme=client_scheme())
