"""The router stand-in (harness/router.py) against a tiny dyno that reports what it received:
the headers Heroku's router adds, the 503 after the first-byte limit, request buffering, and
websockets relayed and closed when idle (on short limits, so this stays fast)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid

import httpx
import pytest
from aiohttp import web
from websockets.sync.client import connect

from harness.router import VIA, Router

HOST = "example-app-1234567890ab.herokuapp.com"


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"headers": dict(request.headers), "body": len(body), "seen_at": time.time()})


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="late")


async def websocket_echo(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        await ws.send_str(message.data)
    return ws


@pytest.fixture(scope="module")
def dyno_port():
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port = []

    async def serve():
        app = web.Application()
        app.router.add_route("*", "/echo", echo)
        app.router.add_get("/slow", slow)
        app.router.add_get("/ws", websocket_echo)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(runner.addresses[0][1])
        started.set()

    threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True).start()
    started.wait(10)
    yield port[0]
    loop.call_soon_threadsafe(loop.stop)


@pytest.fixture
def router(dyno_port):
    running = Router(dyno_port, HOST, first_byte_limit=1.0, websocket_idle_limit=1.0).start()
    yield running
    running.stop()


def last_log_line(router: Router, limit: float = 2.0) -> str:
    """The router logs a request once its answer is written (the line carries the service
    time, as Heroku's does), so the client may read the answer a moment before the line exists."""
    deadline = time.monotonic() + limit
    while not router.log and time.monotonic() < deadline:
        time.sleep(0.01)
    assert router.log, f"the router logged nothing within {limit:.0f} s of answering"
    return router.log[-1]


def test_forwarding_headers(router):
    answer = httpx.get(router.url + "/echo", headers={"X-Forwarded-For": "6.6.6.6"})
    seen = httpx.Headers(answer.json()["headers"])
    assert seen["Host"] == HOST
    assert seen["X-Forwarded-For"] == "6.6.6.6, 127.0.0.1"
    assert (seen["X-Forwarded-Proto"], seen["X-Forwarded-Port"], seen["Via"]) == ("https", "443", VIA)
    assert uuid.UUID(seen["X-Request-Id"])
    assert abs(int(seen["X-Request-Start"]) / 1000 - time.time()) < 5
    assert "Content-Type" not in seen and "Content-Length" not in seen  # a GET without a body stays so
    assert answer.headers["Via"] == VIA
    assert f"request_id={seen['X-Request-Id']}" in last_log_line(router)


def test_no_first_byte_within_the_limit_is_a_503(router):
    answer = httpx.get(router.url + "/slow", timeout=10)
    assert answer.status_code == 503
    assert "code=H12" in last_log_line(router)


def test_a_slow_upload_reaches_the_dyno_whole(router):
    """Request buffering: the dyno sees the request once the body is in, not while it drips."""
    with socket.create_connection(("127.0.0.1", router.port)) as client:
        client.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nab")
        time.sleep(1.0)
        client.sendall(b"cd")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    body = httpx.Response(200, content=answer.split(b"\r\n\r\n", 1)[1]).json()
    assert body["body"] == 4
    assert body["seen_at"] - int(body["headers"]["X-Request-Start"]) / 1000 >= 0.9


def test_websocket_relayed_then_closed_when_idle(router):
    with connect(router.url.replace("http", "ws") + "/ws", open_timeout=5) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        started = time.monotonic()
        with pytest.raises(Exception, match="1001"):
            ws.recv(timeout=5)
        assert 0.8 < time.monotonic() - started < 3
