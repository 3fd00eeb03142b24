import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from votr.models import Poll, PollOption, db


def create(client, **fields):
    body = {"question": "Tea or coffee?", "options": ["Tea", "Coffee"]} | fields
    return client.post("/api/polls", json=body)


def counts(app):
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Poll)),
            db.session.scalar(select(func.count()).select_from(PollOption)),
        )


def test_create_show_list_vote_results(client):
    created = create(client)
    assert created.status_code == 201
    poll = created.get_json()
    assert created.headers["Location"] == f"/api/polls/{poll['id']}"
    assert poll["status"] == "open" and poll["closes_at"] is None
    assert [o["text"] for o in poll["options"]] == ["Tea", "Coffee"]

    assert client.get(f"/api/polls/{poll['id']}").get_json() == poll
    assert [p["id"] for p in client.get("/api/polls").get_json()["polls"]] == [poll["id"]]

    coffee = poll["options"][1]["id"]
    for _ in range(2):
        voted = client.post(f"/api/polls/{poll['id']}/votes", json={"option_id": coffee})
        assert voted.status_code == 201
    results = client.get(f"/api/polls/{poll['id']}/results").get_json()
    assert results["total_votes"] == 2
    assert results["leaders"] == [coffee]
    assert {o["text"]: o["votes"] for o in results["options"]} == {"Tea": 0, "Coffee": 2}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ("{not json", 400, "not valid JSON"),
        ("[1, 2]", 400, "JSON object"),
        ('{"options": ["a", "b"]}', 400, "question"),
        ('{"question": "  ", "options": ["a", "b"]}', 400, "question"),
        ('{"question": "q"}', 400, "options"),
        ('{"question": "q", "options": ["only one"]}', 400, "options"),
        ('{"question": "q", "options": ["a", 2]}', 400, "option"),
        ('{"question": "q", "options": ["Yes", "yes"]}', 400, "different"),
        ('{"question": "q", "options": ["a", "b"], "closes_in_seconds": 0}', 400, "closes_in"),
        ('{"question": "q", "options": ["a", "b"], "closes_in_seconds": "5"}', 400, "integer"),
        ('{"question": "q", "options": ["a", "b"], "closes_at": "tomorrow"}', 400, "ISO 8601"),
        ('{"question": "q", "options": ["a", "b"], "closes_at": "2030-01-01T00:00:00"}', 400, "offset"),
        ('{"question": "q", "options": ["a", "b"], "closes_at": "2001-01-01T00:00:00Z"}', 400, "future"),
        (
            '{"question": "q", "options": ["a", "b"], "closes_at": "2001-01-01T00:00:00Z", "closes_in_seconds": 5}',
            400,
            "not both",
        ),
        # What Postgres cannot store, or Python cannot convert, is the client's error.
        ('{"question": "a\\u0000b", "options": ["a", "b"]}', 400, "NUL"),
        ('{"question": "q", "options": ["a\\ud800", "b"]}', 400, "surrogates"),
        ('{"question": "q", "options": ["a", "b"], "closes_at": "0001-01-01T00:00:00+01:00"}', 400, "out of range"),
        ('{"question": "q", "options": ["a", "b"], "closes_at": "9999-12-31T23:59:59-01:00"}', 400, "out of range"),
        ("[" * 100_000, 400, "not valid JSON"),
    ],
)
def test_bad_poll_is_refused_and_nothing_written(client, app, body, status, fragment):
    before = counts(app)
    response = client.post("/api/polls", data=body, content_type="application/json")
    assert response.status_code == status
    assert fragment in response.get_json()["error"]
    assert counts(app) == before


def test_poll_body_must_be_json(client):
    response = client.post("/api/polls", data="question=q")
    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]


def test_too_long_a_poll_is_refused(client):
    far = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = create(client, closes_at=far)
    assert response.status_code == 400
    assert "at most 7 days" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/polls/999/votes", {"option_id": 1}, 404),
        ("/api/polls/{poll}/votes", {"option_id": 99999}, 404),
        ("/api/polls/{poll}/votes", {"option_id": True}, 400),
        ("/api/polls/{poll}/votes", {"option_id": "1"}, 400),
        ("/api/polls/{poll}/votes", {}, 400),
        ("/api/polls/99999999999999/votes", {"option_id": 1}, 404),
    ],
)
def test_bad_vote_is_refused_and_nothing_counted(client, path, body, status):
    poll = create(client).get_json()
    response = client.post(path.format(poll=poll["id"]), json=body)
    assert response.status_code == status
    assert response.get_json()["error"]
    results = client.get(f"/api/polls/{poll['id']}/results").get_json()
    assert results["total_votes"] == 0


def test_vote_for_another_polls_option_is_refused(client):
    first = create(client).get_json()
    second = create(client, question="Cats or dogs?", options=["Cats", "Dogs"]).get_json()
    foreign = second["options"][0]["id"]
    response = client.post(f"/api/polls/{first['id']}/votes", json={"option_id": foreign})
    assert response.status_code == 404
    assert client.get(f"/api/polls/{second['id']}/results").get_json()["total_votes"] == 0


def test_poll_past_its_time_refuses_votes_before_any_job_ran(client):
    poll = create(client, closes_in_seconds=1).get_json()
    option = poll["options"][0]["id"]
    assert client.post(f"/api/polls/{poll['id']}/votes", json={"option_id": option}).status_code == 201

    time.sleep(1.1)
    shown = client.get(f"/api/polls/{poll['id']}").get_json()
    # No worker ran (no REDIS_URL here): the clock alone closes it.
    assert shown["closed_at"] is None
    assert shown["status"] == "closed"

    refused = client.post(f"/api/polls/{poll['id']}/votes", json={"option_id": option})
    assert refused.status_code == 409
    assert "closed" in refused.get_json()["error"]
    assert client.get(f"/api/polls/{poll['id']}/results").get_json()["total_votes"] == 1


def test_sweep_closes_overdue_polls_only(app):
    from votr.closing import close_due
    from votr.models import utcnow

    with app.app_context():
        overdue = Poll(question="late", closes_at=utcnow() - timedelta(seconds=1))
        later = Poll(question="later", closes_at=utcnow() + timedelta(hours=1))
        forever = Poll(question="forever")
        db.session.add_all([overdue, later, forever])
        db.session.commit()
        assert close_due() == 1
        assert close_due() == 0  # idempotent: a second run changes nothing
        assert db.session.get(Poll, overdue.id).closed_at is not None
        assert db.session.get(Poll, later.id).closed_at is None
        assert db.session.get(Poll, forever.id).closed_at is None


def test_deeply_nested_vote_is_refused(client):
    poll = create(client).get_json()
    response = client.post(f"/api/polls/{poll['id']}/votes", data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.get_json()["error"]


def test_chunked_body_over_the_limit_is_413(client):
    # No Content-Length: Werkzeug stops reading at MAX_CONTENT_LENGTH; the app must not parse the truncated rest.
    body = io.BytesIO(b'{"question": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    response = client.post(
        "/api/polls", input_stream=body, content_type="application/json", environ_overrides={"wsgi.input_terminated": True}
    )
    assert response.status_code == 413
