import json

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from chat.models import Message
from chat.routing import websocket_urlpatterns
from chatsite.asgi import application, same_origin

ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost:8000")  # the host the page was served from, as a browser sends it
HEROKU_HOST = b"chat-0123456789ab.herokuapp.com"
# Communicator waits default to 1 s; a frame that is only slow on a loaded CI machine is
# not a failure. Waits for silence stay short.
WAIT = 5


async def join(room, origin=ORIGIN, app=application, host=HOST):
    communicator = WebsocketCommunicator(app, f"/ws/chat/{room}/", headers=[host] + ([origin] if origin else []))
    connected, _ = await communicator.connect(timeout=WAIT)
    return communicator, connected


async def join_and_read_history(room):
    communicator, connected = await join(room)
    assert connected
    history = await communicator.receive_json_from(timeout=WAIT)
    assert history["type"] == "history"
    return communicator, history["messages"]


@pytest.mark.django_db(transaction=True)
async def test_join_gets_the_newest_fifty_oldest_first():
    await Message.objects.abulk_create(Message(room="busy", author="a", text=f"m{i}") for i in range(60))
    await Message.objects.acreate(room="elsewhere", author="a", text="not here")
    communicator, history = await join_and_read_history("busy")
    assert [m["text"] for m in history] == [f"m{i}" for i in range(10, 60)]
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_message_is_saved_and_broadcast_to_its_room_only():
    alice, _ = await join_and_read_history("x")
    bob, _ = await join_and_read_history("x")
    other, _ = await join_and_read_history("y")
    await alice.send_json_to({"text": "hello <b>bob</b>", "author": "alice"})
    for member in (alice, bob):
        frame = await member.receive_json_from(timeout=WAIT)
        assert frame["type"] == "message"
        assert (frame["author"], frame["text"], frame["room"]) == ("alice", "hello <b>bob</b>", "x")
    assert await other.receive_nothing(timeout=0.2)
    assert await Message.objects.filter(room="x", text="hello <b>bob</b>").acount() == 1
    latecomer, history = await join_and_read_history("x")
    assert [m["text"] for m in history] == ["hello <b>bob</b>"]
    for communicator in (alice, bob, other, latecomer):
        await communicator.disconnect()


BAD_FRAMES = [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ("null", "JSON object"),
    ("{}", "missing or empty"),
    ('{"text": ""}', "missing or empty"),
    ('{"text": "   "}', "missing or empty"),
    ('{"text": 42}', "missing or empty"),
    (json.dumps({"text": "x" * 1001}), "longer than 1000"),
    (json.dumps({"text": "hi", "author": "n" * 33}), '"author"'),
    (json.dumps({"text": "hi", "author": []}), '"author"'),
    (json.dumps({"text": "a\u0000b"}), "NUL"),
    ('{"text": "\\ud800"}', "surrogate"),
    ("[" * 100000, "not valid JSON"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame, reason", BAD_FRAMES)
async def test_bad_frames_get_an_error_frame_and_the_socket_survives(frame, reason):
    communicator, _ = await join_and_read_history("lab")
    await communicator.send_to(text_data=frame)
    error = await communicator.receive_json_from(timeout=WAIT)
    assert error["type"] == "error" and reason in error["error"]
    await communicator.send_json_to({"text": "still here"})
    assert (await communicator.receive_json_from(timeout=WAIT))["text"] == "still here"
    assert await Message.objects.acount() == 1
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_binary_frame_gets_an_error_frame():
    communicator, _ = await join_and_read_history("lab")
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert "binary" in (await communicator.receive_json_from(timeout=WAIT))["error"]
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", [(b"origin", b"http://evil.example"), (b"origin", b"http://localhost.evil.example"), None])
async def test_foreign_or_missing_origin_is_refused(origin):
    communicator, connected = await join("x", origin=origin)
    assert not connected
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("origin", "allowed"), [(b"https://" + HEROKU_HOST, True), (b"https://evil.example", False)])
async def test_on_heroku_any_host_but_only_its_own_origin(origin, allowed):
    # On Heroku ALLOWED_HOSTS is "*": the socket still needs a page of the host it is for.
    communicator, connected = await join(
        "x", (b"origin", origin), same_origin(URLRouter(websocket_urlpatterns)), (b"host", HEROKU_HOST)
    )
    assert connected is allowed
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_unknown_socket_path_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/nope/", headers=[HOST, ORIGIN])
    connected, _ = await communicator.connect(timeout=WAIT)
    assert not connected
    await communicator.disconnect()
