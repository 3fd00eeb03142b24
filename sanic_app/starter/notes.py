"""Notes: a small JSON resource to grow a real API from.

POST /notes (application/json only), GET /notes?limit=&offset=, GET /notes/<id>,
DELETE /notes/<id>; HEAD wherever GET.
Input is validated before it reaches the database; each write is one statement, so a
rejected or failed request leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import BadRequest, NotFound, SanicException
from sanic.response import HTTPResponse, empty, json
from sanic.views import HTTPMethodView

from . import db

bp = Blueprint("notes", url_prefix="/notes")

TITLE_MAX = 200
BODY_MAX = 10_000
DEFAULT_LIMIT = 20
LIMIT_MAX = 100
BIGINT_MAX = 2**63 - 1  # the id column is bigint; larger ids cannot exist

INSERT_NOTE = "INSERT INTO notes (title, body) VALUES ($1, $2) RETURNING id, title, body, created_at"
SELECT_PAGE = "SELECT id, title, body, created_at FROM notes ORDER BY id LIMIT $1 OFFSET $2"
SELECT_NOTE = "SELECT id, title, body, created_at FROM notes WHERE id = $1"
DELETE_NOTE = "DELETE FROM notes WHERE id = $1 RETURNING id"


def serialize(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "body": row["body"],
        "created_at": row["created_at"].isoformat(),
    }


def _text_field(payload: dict[str, Any], name: str, *, required: bool, max_length: int) -> str:
    value = payload.get(name, None if required else "")
    if value is None:
        raise BadRequest(f"'{name}' is required")
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string")
    if len(value) > max_length:
        raise BadRequest(f"'{name}' must be at most {max_length} characters")
    # PostgreSQL text cannot hold NUL, and lone surrogates (valid in JSON escapes) are
    # not UTF-8: both would fail in the database as a 500, so refuse them here.
    if "\x00" in value:
        raise BadRequest(f"'{name}' must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"'{name}' must be valid Unicode text") from None
    return value


def validate_note(request: Request) -> tuple[str, str]:
    # Only JSON: a cross-site HTML form can send text/plain, urlencoded or multipart
    # bodies without asking, but application/json needs a CORS preflight, which this
    # app never grants.
    if request.content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise SanicException("Content-Type must be application/json", status_code=415)
    try:
        payload = request.json
    except BadRequest:
        raise BadRequest("request body must be valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("request body must be a JSON object with 'title' and optional 'body'")
    unknown = sorted(set(payload) - {"title", "body"})
    if unknown:
        listed = ", ".join(name[:20] for name in unknown[:3])
        raise BadRequest(f"unknown field(s): {listed}" + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""))
    title = _text_field(payload, "title", required=True, max_length=TITLE_MAX)
    if not title.strip():
        raise BadRequest("'title' must not be blank")
    body = _text_field(payload, "body", required=False, max_length=BODY_MAX)
    return title, body


def _query_int(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be an integer") from None
    if not minimum <= value <= maximum:
        raise BadRequest(f"'{name}' must be between {minimum} and {maximum}")
    return value


def note_id_or_404(note_id: int) -> int:
    if not 1 <= note_id <= BIGINT_MAX:
        raise NotFound("note not found")
    return note_id


# Class-based views: one route per path with every method it answers, so a 405 names
# them all in Allow (separate routes per method on one path lose it in sanic-routing).
class Notes(HTTPMethodView):
    async def post(self, request: Request) -> HTTPResponse:
        title, body = validate_note(request)
        async with db.connection(request) as conn:
            row = await conn.fetchrow(INSERT_NOTE, title, body)
        return json(serialize(row), status=201, headers={"Location": f"/notes/{row['id']}"})

    async def get(self, request: Request) -> HTTPResponse:
        limit = _query_int(request, "limit", DEFAULT_LIMIT, 1, LIMIT_MAX)
        offset = _query_int(request, "offset", 0, 0, BIGINT_MAX)
        async with db.connection(request) as conn:
            # One row more than asked tells whether another page exists.
            rows = await conn.fetch(SELECT_PAGE, limit + 1, offset)
        has_more = len(rows) > limit
        return json(
            {
                "notes": [serialize(row) for row in rows[:limit]],
                "limit": limit,
                "offset": offset,
                "next_offset": offset + limit if has_more else None,
            }
        )

    head = get  # Sanic sends the headers only


class Note(HTTPMethodView):
    async def get(self, request: Request, note_id: int) -> HTTPResponse:
        note_id = note_id_or_404(note_id)
        async with db.connection(request) as conn:
            row = await conn.fetchrow(SELECT_NOTE, note_id)
        if row is None:
            raise NotFound("note not found")
        return json(serialize(row))

    head = get

    async def delete(self, request: Request, note_id: int) -> HTTPResponse:
        note_id = note_id_or_404(note_id)
        async with db.connection(request) as conn:
            deleted = await conn.fetchval(DELETE_NOTE, note_id)
        if deleted is None:
            raise NotFound("note not found")
        return empty(status=204)


bp.add_route(Notes.as_view(), "")
bp.add_route(Note.as_view(), "/<note_id:int>")
