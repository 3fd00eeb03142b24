"""django_channels only: what Redis and the browser are there for.

- fan-out across two Daphne processes (two launches of the Procfile web line, one Redis),
  with the delivery latency measured;
- websocket frame fuzzing: hundreds of bad frames, each answered by an error frame, the
  socket still usable and the server healthy;
- a real headless Chromium: two pages in one room, one sends, the other shows it. Driven
  through Chromium's own DevTools protocol over a websocket, so it needs no package beyond
  the suite's `websockets` and `httpx` (only Debian's `chromium`).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import string
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from conftest import record

pytestmark = pytest.mark.only_app("django_channels")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
MAX_TEXT = 1000  # settings.CHAT_MESSAGE_MAX_LENGTH


def join(sockets: ExitStack, process, room: str):
    """A websocket in `room` with the page's own Origin; returns it after the history frame."""
    port = process.port
    socket = sockets.enter_context(
        connect(f"ws://127.0.0.1:{port}/ws/chat/{room}/", origin=f"http://127.0.0.1:{port}", open_timeout=10)
    )
    first = json.loads(socket.recv(timeout=10))
    assert first["type"] == "history", first
    return socket


def receive_message(socket, text: str, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame.get("type") == "message" and frame.get("text") == text:
            return frame


def assert_silent(socket, seconds: float) -> None:
    try:
        frame = socket.recv(timeout=seconds)
    except TimeoutError:
        return
    raise AssertionError(f"room Y received a frame meant for room X: {frame}")


def test_fan_out_across_two_processes(spec, database, redis_url, launch):
    # Two dynos share the plan's connections: DATABASE_POOL_SIZE = (20 - 2) // 2, as the
    # app's README tells anyone scaling to N dynos.
    two_dynos = {"DATABASE_POOL_SIZE": "9"}
    first = launch(env=two_dynos)
    second = launch(env=two_dynos, release=False)
    assert first.port != second.port
    latencies = []
    with ExitStack() as sockets:
        listener_x = join(sockets, first, "room-x")
        listener_y = join(sockets, first, "room-y")
        sender_x = join(sockets, second, "room-x")
        for n in range(20):
            text = f"fan-out {n} {uuid.uuid4()}"
            started = time.perf_counter()
            sender_x.send(json.dumps({"text": text, "author": "second"}))
            frame = receive_message(listener_x, text)
            latencies.append((time.perf_counter() - started) * 1000)
            assert frame["author"] == "second" and frame["room"] == "room-x"
            receive_message(sender_x, text)  # the sender's own copy
        assert_silent(listener_y, 1.0)
    saved = database.query("SELECT count(*) FROM chat_message WHERE room = 'room-x'")[0][0]
    assert saved == 20
    median, worst = statistics.median(latencies), max(latencies)
    record(spec, "fanout_latency_ms_median", median)
    record(spec, "fanout_latency_ms_max", worst)
    print(f"\ncross-process delivery over Redis: median {median:.1f} ms, max {worst:.1f} ms (20 messages)")


def test_web_process_fills_its_pool_before_the_first_burst(database, launch):
    """psycopg_pool grows one connection at a time; left to grow under a burst, the last
    requests in line waited past the 1 s checkout and got 503. The web process opens its
    whole pool at boot instead, and no more than the pool."""
    launch(env={"DATABASE_POOL_SIZE": "6"})
    deadline = time.monotonic() + 10
    while database.app_connections() < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a seventh would show up by now
    assert database.app_connections() == 6


def test_idle_socket_keeps_working(launch):
    """Idle through several of channels-redis' 5 s blocking pops: with redis-py's default
    5 s read timeout the consumer used to die with "Timeout reading" here."""
    process = launch()
    with ExitStack() as sockets:
        listener = join(sockets, process, "idle")
        time.sleep(16)
        sender = join(sockets, process, "idle")
        sender.send(json.dumps({"text": "after a quiet spell"}))
        receive_message(listener, "after a quiet spell")
    assert "Timeout reading" not in process.output()


def bad_frames(rng: random.Random, count: int):
    """Frames the consumer must refuse with an error frame: (kind, payload)."""
    printable = string.ascii_letters + string.digits + string.punctuation + " \t\n"
    makers = [
        lambda: ("binary", rng.randbytes(rng.randint(1, 512))),
        lambda: ("text", "".join(rng.choice(printable) for _ in range(rng.randint(1, 200))).replace("{", "(")),
        lambda: ("text", json.dumps(rng.choice([[], [1, 2], 3, 4.5, "text", None, True]))),
        lambda: ("text", json.dumps({"message": "no text field"})),
        lambda: ("text", json.dumps({"text": rng.choice(["", " ", "\n\t ", None, 7, [], {}, False])})),
        lambda: ("text", json.dumps({"text": "x" * rng.randint(MAX_TEXT + 1, 20000)})),
        lambda: ("text", json.dumps({"text": "ok", "author": "a" * rng.randint(33, 300)})),
        lambda: ("text", json.dumps({"text": "ok", "author": rng.choice([1, [], {}])})),
        lambda: ("text", json.dumps({"text": "nul\u0000inside"})),
        lambda: ("text", '{"text": "lone \\ud83d surrogate"}'),
        lambda: ("text", "[" * rng.randint(1000, 50000)),
        lambda: ("text", '{"text": "unterminated'),
        lambda: ("text", "\ufeff" + json.dumps({"text": "bom-prefixed"})),
    ]
    return [rng.choice(makers)() for _ in range(count)]


def test_websocket_frame_fuzzing(spec, launch):
    process = launch()
    rng = random.Random(1234)
    frames = bad_frames(rng, 400)
    errors = 0
    with ExitStack() as sockets:
        socket = join(sockets, process, "fuzz")
        for index, (kind, payload) in enumerate(frames):
            socket.send(payload)
            frame = json.loads(socket.recv(timeout=5))
            assert frame["type"] == "error" and frame["error"], (kind, str(payload)[:80], frame)
            errors += 1
            if index % 50 == 49:  # still a working chat between bursts of garbage
                text = f"still alive after {index + 1}"
                socket.send(json.dumps({"text": text}))
                receive_message(socket, text)
    health = httpx.get(f"{process.url}/health", timeout=5)
    assert health.status_code == 200, health.text
    assert "Traceback" not in process.output()
    record(spec, "websocket_frames_fuzzed", errors)
    print(f"\nwebsocket fuzzing: {errors} bad frames, {errors} error frames, socket and server healthy")


class PageNotReady(Exception):
    """No JavaScript context yet, or the script threw (the page is still navigating)."""


class DevTools:
    """A page in Chromium, driven over the DevTools protocol."""

    def __init__(self, sockets: ExitStack, websocket_url: str):
        self.socket = sockets.enter_context(connect(websocket_url, max_size=None, open_timeout=10))
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv(timeout=15))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    if "execution context" in reply["error"].get("message", ""):
                        raise PageNotReady(reply["error"]["message"])
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise PageNotReady(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except PageNotReady as exc:
                value, last_error = None, exc
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression} (last error: {last_error})")


@pytest.fixture
def chromium():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (the browser test needs it)")
    profile = tempfile.mkdtemp(prefix="django-channels-chromium-")
    browser = subprocess.Popen(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert browser.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(sockets: ExitStack, devtools_http: str, url: str) -> DevTools:
    target = httpx.put(f"{devtools_http}/json/new?{url}", timeout=10).json()
    page = DevTools(sockets, target["webSocketDebuggerUrl"])
    # /json/new starts on about:blank, which is "complete" too: wait for our page.
    page.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")
    return page


def test_two_browser_pages_chat(launch, chromium):
    process = launch()
    room_url = f"{process.url}/chat/browser-{uuid.uuid4().hex[:8]}/"
    with ExitStack() as sockets:
        alice = open_page(sockets, chromium, room_url)
        bob = open_page(sockets, chromium, room_url)
        for page in (alice, bob):
            page.wait_for("document.body.dataset.connected === 'true'")
        text = "hello from a real browser <b>not bold</b>"
        alice.evaluate(
            f"document.getElementById('author').value = 'alice';"
            f"document.getElementById('text').value = {json.dumps(text)};"
            "document.getElementById('send').requestSubmit(); true"
        )
        shown = bob.wait_for(
            "Array.from(document.querySelectorAll('#messages .message'))"
            f".map(item => item.textContent).find(line => line.includes({json.dumps(text)})) || ''"
        )
        assert shown == f"alice: {text}"
        assert bob.evaluate("document.querySelectorAll('#messages b').length") == 0  # text, not HTML
        alice.wait_for(f"document.getElementById('messages').textContent.includes({json.dumps(text)})")
