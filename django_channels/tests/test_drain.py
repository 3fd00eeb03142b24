"""daphne_drain exists because plain Daphne drops requests in flight on SIGTERM
(https://github.com/django/daphne/issues/177). The first test fails when upstream Daphne
starts answering them: then delete daphne_drain.py and start Daphne directly."""

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
SLOW_SECONDS = 2


async def slow_app(scope, receive, send):
    """An ASGI app that takes SLOW_SECONDS to answer, like a request waiting on a lock."""
    if scope["type"] != "http":
        return
    await asyncio.sleep(SLOW_SECONDS)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"answered"})


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answer_after_sigterm(launcher):
    """Start Daphne, send one slow request, SIGTERM while it waits; what did the client get?"""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", launcher, "--bind", "127.0.0.1", "--port", str(port), "tests.test_drain:slow_app"],
        cwd=APP_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline, "Daphne never listened"
                time.sleep(0.1)
        with client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            time.sleep(SLOW_SECONDS / 4)
            server.send_signal(signal.SIGTERM)
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        assert server.wait(timeout=20) is not None
        return answer
    finally:
        server.kill()
        server.wait()


def test_plain_daphne_still_drops_requests_in_flight_on_sigterm():
    answer = answer_after_sigterm("daphne")
    assert b"answered" not in answer, "Daphne now drains on SIGTERM: daphne_drain.py can go"


def test_daphne_drain_answers_requests_in_flight_then_exits():
    answer = answer_after_sigterm("daphne_drain")
    assert answer.startswith(b"HTTP/1.1 200") and b"answered" in answer


def test_autobahn_still_refuses_to_send_1001():
    """Daphne closes a websocket through Autobahn's sendClose, which refuses 1001 "going away"
    (crossbario/autobahn-python#1642), so chat.consumers closes with 1000 on SIGTERM. When this
    fails, set chat.consumers.SERVER_STOPPING to 1001 (and the shared suite's expected code)."""
    from autobahn.twisted.websocket import WebSocketServerProtocol

    with pytest.raises(Exception, match="invalid close code 1001"):
        WebSocketServerProtocol().sendClose(code=1001)
