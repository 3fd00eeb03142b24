"""django_channels only: what Redis and the browser are there for.

- fan-out across two Daphne processes (two launches of the Procfile web line, one Redis),
  with the delivery latency measured;
- SIGTERM to one of two processes: its sockets get a close frame (1000: Daphne cannot send
  1001), the other's keep talking;
- websocket frame fuzzing: hundreds of bad frames, each answered by an error frame, the
  socket still usable and the server healthy;
- a real headless Chromium (harness.browser: Playwright driving the system Chromium): two
  pages in one room, one sends, the other shows it.
"""

from __future__ import annotations

import json
import random
import signal
import statistics
import string
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import record
from harness.browser import browser
from harness.platform import STOP_LIMIT

pytestmark = pytest.mark.only_app("django_channels")

MAX_TEXT = 1000  # chat.consumers.MESSAGE_MAX_LENGTH


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


def close_code(socket, timeout: float) -> int | None:
    """Read frames until the server closes; the code of its close frame, None if it sent none
    (1006 to the client). A socket still open after `timeout` fails the test."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            socket.recv(timeout=max(0.01, deadline - time.monotonic()))
    except TimeoutError:
        raise AssertionError(f"socket still open {timeout:.0f} s after SIGTERM") from None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


# RFC 6455 7.4.1's "going away" is 1001, which Daphne cannot send: it closes through Autobahn's
# sendClose, which accepts only 1000 and 3000-4999 (crossbario/autobahn-python#1642; the app's
# tests/test_drain.py notices a fix). 1000 until then.
SERVER_STOPPING = 1000


def test_sigterm_closes_its_sockets_with_a_close_frame_and_the_other_process_keeps_talking(spec, database, launch):
    """Heroku SIGTERMs a dyno on every deploy and restart. Its chat sockets must end with a
    close frame, not a dropped connection (1006), before SIGKILL 30 s later, so the page
    reconnects knowing why; the sockets of another dyno in the same room carry on."""
    two_dynos = {"DATABASE_POOL_SIZE": "9"}
    stopping = launch(env=two_dynos)
    staying = launch(env=two_dynos, release=False)
    with ExitStack() as sockets:
        leaving = [join(sockets, stopping, "room-goodbye") for _ in range(3)]
        talker, listener = join(sockets, staying, "room-goodbye"), join(sockets, staying, "room-goodbye")
        sent = time.monotonic()
        stopping.signal(signal.SIGTERM)
        codes = [close_code(socket, STOP_LIMIT) for socket in leaving]
        closed_within = time.monotonic() - sent
        assert codes == [SERVER_STOPPING] * len(leaving), f"close codes {codes} (None: no close frame)\n{stopping.output()}"
        for n in range(3):
            text = f"still here {n} {uuid.uuid4()}"
            talker.send(json.dumps({"text": text, "author": "staying"}))
            receive_message(listener, text)
            receive_message(talker, text)
    shutdown = stopping.wait_exit(STOP_LIMIT, since=sent)
    assert database.query("SELECT count(*) FROM chat_message WHERE room = 'room-goodbye'")[0][0] == 3
    record(spec, "websocket_goodbye_seconds", closed_within)
    record(spec, "shutdown_seconds_with_sockets_open", shutdown)


def test_first_burst_after_boot_waits_for_the_pool_and_stays_within_it(spec, database, launch):
    """Django's psycopg pool starts empty (min_size 0) and grows on demand. The first burst
    after a deploy queues for it: with a 6-connection pool, 128 /updates?queries=20 from 64
    clients must all succeed inside the 3 s checkout timeout, and never hold a 7th."""
    process = launch(env={"DATABASE_POOL_SIZE": "6"})

    def update(_):
        started = time.perf_counter()
        status = httpx.get(process.url + "/updates?queries=20", timeout=30).status_code
        return status, time.perf_counter() - started

    with database.sample_connections() as sampler, ThreadPoolExecutor(64) as pool:
        results = list(pool.map(update, range(128)))
    statuses = [status for status, _ in results]
    assert statuses == [200] * 128, {s: statuses.count(s) for s in set(statuses)}
    assert sampler.peak <= 6
    worst = max(seconds for _, seconds in results)
    record(spec, "first_burst_peak_connections", sampler.peak)
    record(spec, "first_burst_worst_seconds", worst)


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


def test_two_browser_pages_chat(launch):
    """Two pages of a real Chromium in one room: one sends, the other shows it (as text)."""
    process = launch()
    room_url = f"{process.url}/chat/browser-{uuid.uuid4().hex[:8]}/"
    text = "hello from a real browser <b>not bold</b>"
    with browser() as chromium:
        alice, bob = chromium.new_page(), chromium.new_page()
        for page in (alice, bob):
            page.goto(room_url)
            page.wait_for_function("document.body.dataset.connected === 'true'", timeout=15000)
        alice.fill("#author", "alice")
        alice.fill("#text", text)
        alice.click("#send button")
        shown = bob.locator("#messages .message", has_text=text)
        shown.wait_for(timeout=15000)
        assert shown.text_content() == f"alice: {text}"
        assert bob.locator("#messages b").count() == 0  # text, not HTML
        alice.locator("#messages .message", has_text=text).wait_for(timeout=15000)
