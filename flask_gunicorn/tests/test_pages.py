"""The poll pages: escaped text, bars from the counts, one vote per browser session."""


def create(client, question="Tea or coffee?"):
    return client.post("/api/polls", json={"question": question, "options": ["Tea", "Coffee"]}).get_json()


def test_pages_escape_user_text(client):
    poll = create(client, question="<script>alert(1)</script>")
    for url in ("/polls/", f"/polls/{poll['id']}"):
        body = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
        assert 'src="/static/votr.js"' in body


def test_one_vote_per_browser_and_bars(client):
    poll = create(client)
    coffee = poll["options"][1]["id"]
    page = client.get(f"/polls/{poll['id']}").get_data(as_text=True)
    assert 'width="0%"' in page and "This browser has voted" in page and 'id="voted" hidden' in page

    assert client.post(f"/api/polls/{poll['id']}/votes", json={"option_id": coffee}).status_code == 201
    again = client.post(f"/api/polls/{poll['id']}/votes", json={"option_id": coffee})
    assert again.status_code == 409 and "already voted" in again.get_json()["error"]

    page = client.get(f"/polls/{poll['id']}").get_data(as_text=True)
    assert 'width="100%"' in page and 'id="voted" hidden' not in page and '<form id="vote" hidden' in page
    results = client.get(f"/api/polls/{poll['id']}/results").get_json()
    assert results["total_votes"] == 1


def test_missing_poll_page_is_404(client):
    assert client.get("/polls/999").status_code == 404
