"""Watch the one upstream gap votr/errors.py works around."""

import socket
import subprocess
import sys
import time

BARE_APP = """
from flask import Flask, request

app = Flask(__name__)


@app.post("/")
def echo():
    return request.get_data()
"""

MALFORMED_CHUNKED = (
    b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answer_to(port: int, raw: bytes, deadline: float) -> bytes:
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(raw)
                received = b""
                # The worker may still be booting: wait for it, but only until the deadline.
                conn.settimeout(max(deadline - time.monotonic(), 0.1))
                while chunk := conn.recv(65536):
                    received += chunk
                return received
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_gunicorn_still_leaves_malformed_chunked_bodies_to_flask(tmp_path):
    """A bare Flask app under gunicorn still answers a malformed chunked body with 500.

    Bounded: 10 s for the answer (boot included), 3 s for the shutdown.

    gunicorn raises its ParseException while Flask reads the body, and Flask turns
    any unhandled exception into a 500, so gunicorn's own 400 for malformed chunked
    bodies (benoitc/gunicorn#3721, in the pinned 27.0.1) only covers errors that
    leave the app. See benoitc/gunicorn#2832. When this fails, gunicorn handles
    it: delete the handler in votr/errors.py.
    """
    (tmp_path / "bare.py").write_text(BARE_APP)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--graceful-timeout",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(tmp_path),
            "bare:app",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        answer = answer_to(port, MALFORMED_CHUNKED, deadline=time.monotonic() + 10)
    finally:
        server.terminate()
        try:
            _, log = server.communicate(timeout=3)
        except subprocess.TimeoutExpired:
            server.kill()
            _, log = server.communicate()
    assert answer.startswith(b"HTTP/1.1 500"), answer[:200]
    assert b"InvalidChunkSize" in log, log[-2000:]
