"""Client helpers: timed requests, concurrent load, raw sockets, and error-page detection."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

# What a debug page or a leaked traceback looks like in the frameworks of this repository.
LEAK_MARKERS = (
    "Traceback (most recent call last)",
    'File "/',
    "Werkzeug Debugger",
    "werkzeug.debug",
    "Django Version:",
    # Django's debug pages (its 404 too); Django 5 writes "You’re" with a typographic apostrophe.
    "because you have <code>DEBUG = True</code>",
    "sanic.exceptions",
    "site-packages",
)


def leaks(text: str) -> list[str]:
    return [marker for marker in LEAK_MARKERS if marker in text]


def timed_get(url: str, timeout: float = 10.0, **kwargs) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=timeout, **kwargs)
    return response, time.monotonic() - started


@dataclass
class LoadResult:
    statuses: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    requests: int = 0

    def count(self, status) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.requests += 1

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300) + len(self.errors)


def load(
    base_url: str, paths: list[str], clients: int, seconds: float, until: threading.Event | None = None, limit: float = 60.0
) -> LoadResult:
    """`clients` keep-alive clients cycling through `paths` for `seconds`, and on until
    `until` is set if one is given (never past `limit`): bounded, loopback only.

    Clients are built before the clock starts: building 64 of them takes seconds of CPU.
    """
    result = LoadResult()
    lock = threading.Lock()
    window = {}
    ready = threading.Barrier(clients, action=lambda: window.update(start=time.monotonic()))

    def running() -> bool:
        elapsed = time.monotonic() - window["start"]
        return elapsed < seconds or (until is not None and not until.is_set() and elapsed < limit)

    def client(offset: int) -> None:
        with httpx.Client(base_url=base_url, timeout=15.0, trust_env=False) as session:
            ready.wait()
            i = offset
            while running():
                path = paths[i % len(paths)]
                i += 1
                try:
                    status = session.get(path).status_code
                    with lock:
                        result.count(status)
                except httpx.HTTPError as exc:
                    with lock:
                        result.errors.append(f"{path}: {exc!r}")

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return result


class NoAnswer(AssertionError):
    """The server neither answered nor closed the connection within the timeout: a hang,
    never a pass for a check about the answer."""


def raw_request(port: int, request: bytes, host: str = "127.0.0.1", timeout: float = 10.0) -> bytes:
    """Send bytes as they are and read the answer; a server may answer before reading it all.

    b"" means the server closed the connection (EOF or reset) without a byte; a server that
    says nothing within `timeout` raises NoAnswer, so a hang never reads as "closed".
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while data := sock.recv(65536):
                chunks.append(data)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        except TimeoutError:
            raise NoAnswer(f"no answer and no close within {timeout:g} s; read {b''.join(chunks)[:300]!r}") from None
        except ConnectionResetError:
            pass
    return b"".join(chunks)


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return False


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
