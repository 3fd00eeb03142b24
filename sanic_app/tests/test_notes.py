"""Notes validation (no database needed: bad input never reaches it) and, with a
scratch database, the full create/list/read/delete cycle."""

import pytest
from starter.notes import BODY_MAX, TITLE_MAX


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "valid JSON"),
        (b"", "JSON object"),
        (b"[1, 2]", "JSON object"),
        (b'"title"', "JSON object"),
        (b'{"body": "no title"}', "'title' is required"),
        (b'{"title": 5}', "'title' must be a string"),
        (b'{"title": "   "}', "must not be blank"),
        (b'{"title": "ok", "body": ["x"]}', "'body' must be a string"),
        (b'{"title": "ok", "color": "red"}', "unknown field(s): color"),
        (b'{"title": "nul \\u0000 here"}', "NUL"),
        (b'{"title": "lone \\ud800 surrogate"}', "valid Unicode"),
        (('{"title": "%s"}' % ("t" * (TITLE_MAX + 1))).encode(), f"at most {TITLE_MAX}"),
        (('{"title": "ok", "body": "%s"}' % ("b" * (BODY_MAX + 1))).encode(), f"at most {BODY_MAX}"),
    ],
)
def test_create_rejects_bad_input_with_400(app, body, message):
    _, response = app.test_client.post("/notes", content=body, headers={"content-type": "application/json"})
    assert response.status == 400
    assert message in response.json["error"]


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=101", "offset=-1", "offset=x"])
def test_list_rejects_bad_pagination(app, query):
    _, response = app.test_client.get(f"/notes?{query}")
    assert response.status == 400
    assert "error" in response.json


@pytest.mark.parametrize("path", ["/notes/0", "/notes/-3", "/notes/99999999999999999999", "/notes/abc"])
def test_impossible_ids_are_404(app, path):
    _, response = app.test_client.get(path)
    assert response.status == 404


def test_notes_lifecycle(db_app):
    client = db_app.test_client
    _, created = client.post("/notes", json={"title": "Première note", "body": "日本語 & <b>"})
    assert created.status == 201
    note = created.json
    assert created.headers["location"] == f"/notes/{note['id']}"
    assert (note["title"], note["body"]) == ("Première note", "日本語 & <b>")

    _, fetched = client.get(f"/notes/{note['id']}")
    assert fetched.json == note

    _, second = client.post("/notes", json={"title": "second"})
    assert second.json["body"] == ""

    _, page = client.get("/notes?limit=1")
    assert page.json["limit"] == 1
    assert [n["id"] for n in page.json["notes"]] == [note["id"]]
    assert page.json["next_offset"] == 1
    _, rest = client.get("/notes?limit=1&offset=1")
    assert [n["id"] for n in rest.json["notes"]] == [second.json["id"]]
    assert rest.json["next_offset"] is None

    _, deleted = client.delete(f"/notes/{note['id']}")
    assert deleted.status == 204
    _, gone = client.get(f"/notes/{note['id']}")
    assert gone.status == 404
    _, again = client.delete(f"/notes/{note['id']}")
    assert again.status == 404


def test_rejected_note_writes_nothing(db_app, database_url):
    from conftest import query

    before = query(database_url, "SELECT count(*) FROM notes")[0][0]
    _, response = db_app.test_client.post("/notes", json={"title": "x" * (TITLE_MAX + 1)})
    assert response.status == 400
    assert query(database_url, "SELECT count(*) FROM notes")[0][0] == before
