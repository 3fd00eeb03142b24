"""One trusted hop: only the router's own (rightmost) entry is believed."""

import pytest

ROUTER = {"REMOTE_ADDR": "10.1.2.3"}


def test_whoami_takes_rightmost_forwarded_for(client):
    response = client.get(
        "/whoami",
        headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"},
        environ_base=ROUTER,
    )
    assert response.get_json() == {"ip": "203.0.113.9", "scheme": "http"}


def test_whoami_scheme_from_forwarded_proto(client):
    response = client.get(
        "/whoami",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base=ROUTER,
    )
    assert response.get_json()["scheme"] == "https"


@pytest.mark.parametrize(("forwarded", "scheme"), [("https,", "http"), ("http, https", "https"), ("gopher", "http")])
def test_scheme_is_the_rightmost_forwarded_proto(client, forwarded, scheme):
    response = client.get("/whoami", headers={"X-Forwarded-Proto": forwarded}, environ_base=ROUTER)
    assert response.get_json()["scheme"] == scheme


def test_whoami_without_proxy_headers_is_the_peer(client):
    assert client.get("/whoami", environ_base=ROUTER).get_json()["ip"] == "10.1.2.3"


@pytest.mark.parametrize("forwarded", ["6.6.6.6,", "6.6.6.6, ", "6.6.6.6, not-an-address"])
def test_empty_or_bad_rightmost_entry_falls_back_to_the_peer(client, forwarded):
    response = client.get("/whoami", headers={"X-Forwarded-For": forwarded}, environ_base=ROUTER)
    assert response.get_json()["ip"] == "10.1.2.3"


def test_ipv4_on_the_dual_stack_socket_reads_as_ipv4(client):
    response = client.get("/whoami", environ_base={"REMOTE_ADDR": "::ffff:127.0.0.1"})
    assert response.get_json()["ip"] == "127.0.0.1"


def test_get_my_ip_is_the_client_not_the_router(client):
    response = client.get("/get_my_ip/", headers={"X-Forwarded-For": "1.1.1.1, 198.51.100.7"}, environ_base=ROUTER)
    assert response.get_json() == {"ip": "198.51.100.7"}


def test_other_takes_get_and_post(client):
    assert client.get("/other/").status_code == 200
    assert client.post("/other/", data="anything").status_code == 200
    assert client.put("/other/").status_code == 405


def test_projects_returns_query_arguments_as_json(client):
    response = client.get("/projects/?tag=flask&tag=heroku&name=votr")
    assert response.get_json() == {"args": {"tag": ["flask", "heroku"], "name": ["votr"]}}
