"""Notes, a JSON resource to grow from: POST /notes (JSON only), GET /notes?limit=&offset=,
GET and DELETE /notes/<id>. Input is checked first; each write is one statement."""

from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import BadRequest, NotFound, SanicException
from sanic.response import HTTPResponse, empty, json
from sanic.views import HTTPMethodView

from . import db

bp = Blueprint("notes", url_prefix="/notes")

TITLE_MAX, BODY_MAX = 200, 10_000
DEFAULT_LIMIT, LIMIT_MAX = 20, 100
BIGINT_MAX = 2**63 - 1  # the id column is bigint; larger ids cannot exist

INSERT_NOTE = "INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING id, title, body, created_at"
SELECT_PAGE = "SELECT id, title, body, created_at FROM notes ORDER BY id LIMIT $1 OFFSET $2"
SELECT_NOTE = "SELECT id, title, body, created_at FROM notes WHERE id = $1"
DELETE_NOTE = "DELETE FROM notes WHERE id = $1 RETURNING id"


def serialize(row: Any) -> dict[str, Any]:
    return {**dict(row), "created_at": row["created_at"].isoformat()}


def text_field(payload: dict[str, Any], name: str, max_length: int, default: str | None = None) -> str:
    value = payload.get(name, default)
    if value is None:
        raise BadRequest(f"'{name}' is required")
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string")
    if len(value) > max_length:
        raise BadRequest(f"'{name}' must be at most {max_length} characters")
    # Postgres text cannot hold NUL, and a lone surrogate (a valid JSON escape) is not
    # UTF-8: either would fail in the database as a 500.
    if "\x00" in value or (not value.isascii() and any("\ud800" <= char <= "\udfff" for char in value)):
        raise BadRequest(f"'{name}' must be valid Unicode text without NUL characters")
    return value


def validate_note(request: Request) -> tuple[str, str]:
    # A cross-site HTML form can send text/plain, urlencoded or multipart bodies without
    # asking; application/json needs a CORS preflight, which this app never grants.
    if request.content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise SanicException("Content-Type must be application/json", status_code=415)
    try:
        payload = request.json
    except BadRequest:
        raise BadRequest("request body must be valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("request body must be a JSON object with 'title' and optional 'body'")
    if unknown := sorted(set(payload) - {"title", "body"}):
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise BadRequest(f"unknown field(s): {', '.join(name[:20] for name in unknown[:3])}{more}")
    title = text_field(payload, "title", TITLE_MAX)
    if not title.strip():
        raise BadRequest("'title' must not be blank")
    return title, text_field(payload, "body", BODY_MAX, default="")


def query_int(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be an integer") from None
    if not minimum <= value <= maximum:
        raise BadRequest(f"'{name}' must be between {minimum} and {maximum}")
    return value


# Class-based views: one route per path with every method it answers, so a 405 lists
# them all in Allow (one route per method on a path loses it in sanic-routing).
class Notes(HTTPMethodView):
    async def post(self, request: Request) -> HTTPResponse:
        title, body = validate_note(request)
        async with db.connection(request) as conn:
            row = await conn.fetchrow(INSERT_NOTE, title, body)
        return json(serialize(row), status=201, headers={"Location": f"/notes/{row['id']}"})

    async def get(self, request: Request) -> HTTPResponse:
        limit = query_int(request, "limit", DEFAULT_LIMIT, 1, LIMIT_MAX)
        offset = query_int(request, "offset", 0, 0, BIGINT_MAX)
        async with db.connection(request) as conn:
            rows = await conn.fetch(SELECT_PAGE, limit + 1, offset)  # one more: is there a next page?
        page = {"notes": [serialize(row) for row in rows[:limit]], "limit": limit, "offset": offset}
        return json({**page, "next_offset": offset + limit if len(rows) > limit else None})

    head = get  # Sanic sends the headers only


async def fetch_or_none(request: Request, query: str, note_id: int) -> Any:
    if not 1 <= note_id <= BIGINT_MAX:  # cannot exist: no need to ask the database
        return None
    async with db.connection(request) as conn:
        return await conn.fetchrow(query, note_id)


class Note(HTTPMethodView):
    async def get(self, request: Request, note_id: int) -> HTTPResponse:
        row = await fetch_or_none(request, SELECT_NOTE, note_id)
        if row is None:
            raise NotFound("note not found")
        return json(serialize(row))

    head = get

    async def delete(self, request: Request, note_id: int) -> HTTPResponse:
        if await fetch_or_none(request, DELETE_NOTE, note_id) is None:
            raise NotFound("note not found")
        return empty(status=204)


bp.add_route(Notes.as_view(), "")
bp.add_route(Note.as_view(), "/<note_id:int>")
