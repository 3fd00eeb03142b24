"""votr's JSON API. Input is validated before anything is written, in one transaction."""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, jsonify, request, session, url_for
from sqlalchemy import select, update
from werkzeug.exceptions import BadRequest

from .closing import MAX_POLL_DURATION, schedule_closing
from .models import Poll, PollOption, db, utcnow

bp = Blueprint("polls", __name__, url_prefix="/api/polls")

MAX_QUESTION, MAX_OPTION, MIN_OPTIONS, MAX_OPTIONS, LIST_LIMIT = 200, 100, 2, 10, 100
# Postgres `integer`: a larger id cannot exist, and must not reach the database.
MAX_ID = 2**31 - 1
POLL_ID = f"<int(max={MAX_ID}):poll_id>"


def iso(moment: datetime | None) -> str | None:
    return moment.replace(tzinfo=UTC).isoformat() if moment else None


def poll_summary(poll: Poll) -> dict:
    return {
        "id": poll.id,
        "question": poll.question,
        "status": "closed" if poll.is_closed() else "open",
        "created_at": iso(poll.created_at),
        "closes_at": iso(poll.closes_at),
        "closed_at": iso(poll.closed_at),
        "url": url_for("polls.show_poll", poll_id=poll.id),
    }


def poll_detail(poll: Poll) -> dict:
    return poll_summary(poll) | {"options": [{"id": o.id, "text": o.text} for o in poll.options]}


def poll_results(poll: Poll) -> dict:
    options = [{"id": o.id, "text": o.text, "votes": o.votes} for o in poll.options]
    top = max((o["votes"] for o in options), default=0)
    return poll_summary(poll) | {
        "options": options,
        "total_votes": sum(o["votes"] for o in options),
        "leaders": [o["id"] for o in options if top and o["votes"] == top],
    }


def json_object() -> dict:
    if not request.is_json:
        abort(415, "send a JSON body with Content-Type: application/json")
    try:
        body = request.get_json()
    except (BadRequest, RecursionError):  # RecursionError: e.g. 100,000 nested "["
        abort(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    return body


def text_field(value, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        abort(400, f"{name} must be a non-empty string")
    value = value.strip()
    # JSON can carry what Postgres text cannot store: NUL, and lone surrogates
    # ("\ud800"), which have no UTF-8 encoding.
    if "\x00" in value or value.encode("utf-8", "replace").decode() != value:
        abort(400, f"{name} must not contain NUL or unpaired surrogates")
    if len(value) > limit:
        abort(400, f"{name} must be at most {limit} characters")
    return value


def whole_number(value, name: str) -> int:
    # bool is an int in Python; true is not a valid id or duration.
    if isinstance(value, bool) or not isinstance(value, int):
        abort(400, f"{name} must be an integer")
    return value


def closing_time(body: dict) -> datetime | None:
    """closes_at (ISO 8601 with offset) or closes_in_seconds, or neither."""
    if "closes_at" in body and "closes_in_seconds" in body:
        abort(400, "give closes_at or closes_in_seconds, not both")
    now, longest = utcnow(), int(MAX_POLL_DURATION.total_seconds())
    if body.get("closes_in_seconds") is not None:
        seconds = whole_number(body["closes_in_seconds"], "closes_in_seconds")
        if not 1 <= seconds <= longest:
            abort(400, f"closes_in_seconds must be 1..{longest}")
        return now + timedelta(seconds=seconds)
    if body.get("closes_at") is None:
        return None
    try:
        moment = datetime.fromisoformat(body["closes_at"])
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None:
        abort(400, "closes_at must be an ISO 8601 time with an offset, e.g. 2030-01-01T12:00:00+00:00")
    try:
        closes_at = moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        abort(400, "closes_at is out of range")
    if closes_at <= now:
        abort(400, "closes_at must be in the future")
    if closes_at - now > MAX_POLL_DURATION:
        abort(400, f"a poll may stay open at most {MAX_POLL_DURATION.days} days")
    return closes_at


def find_poll(poll_id: int) -> Poll:
    return db.get_or_404(Poll, poll_id, description=f"no poll with id {poll_id}")


@bp.get("")
def list_polls():
    polls = db.session.scalars(select(Poll).order_by(Poll.id.desc()).limit(LIST_LIMIT))
    return jsonify(polls=[poll_summary(poll) for poll in polls])


@bp.post("")
def create_poll():
    body = json_object()
    question = text_field(body.get("question"), "question", MAX_QUESTION)
    raw_options = body.get("options")
    if not isinstance(raw_options, list) or not MIN_OPTIONS <= len(raw_options) <= MAX_OPTIONS:
        abort(400, f"options must be a list of {MIN_OPTIONS} to {MAX_OPTIONS} strings")
    options = [text_field(option, "each option", MAX_OPTION) for option in raw_options]
    if len({option.casefold() for option in options}) != len(options):
        abort(400, "options must be different from each other")
    poll = Poll(question=question, closes_at=closing_time(body))
    poll.options = [PollOption(position=i, text=text, votes=0) for i, text in enumerate(options)]
    db.session.add(poll)
    db.session.commit()
    schedule_closing(poll)
    return jsonify(poll_detail(poll)), 201, {"Location": url_for("polls.show_poll", poll_id=poll.id)}


@bp.get(f"/{POLL_ID}")
def show_poll(poll_id: int):
    return jsonify(poll_detail(find_poll(poll_id)))


@bp.post(f"/{POLL_ID}/votes")
def vote(poll_id: int):
    option_id = whole_number(json_object().get("option_id"), "option_id")
    poll = find_poll(poll_id)
    if poll.is_closed():
        abort(409, f"poll {poll_id} is closed")
    if option_id not in {o.id for o in poll.options}:
        abort(404, f"poll {poll_id} has no option with id {option_id}")
    # One vote per poll from a browser that opened a poll page (pages.py starts its signed
    # session): a demo limit, not fraud prevention; clients without that cookie are not limited.
    if poll_id in session.get("voted", ()):
        abort(409, f"this browser has already voted in poll {poll_id}")
    # Counted in the database, so concurrent votes never overwrite each other.
    db.session.execute(update(PollOption).where(PollOption.id == option_id).values(votes=PollOption.votes + 1))
    db.session.commit()
    if "voted" in session:  # the latest LIST_LIMIT polls: the cookie stays far below 4 KB
        session["voted"] = session["voted"][-LIST_LIMIT + 1 :] + [poll_id]
    return jsonify(poll_results(poll)), 201


@bp.get(f"/{POLL_ID}/results")
def results(poll_id: int):
    return jsonify(poll_results(find_poll(poll_id)))
