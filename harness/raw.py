"""Raw HTTP/1.1 over a loopback socket: send bytes exactly as written, read what comes back.

For the hostile-client checks (tests/test_hostile.py): malformed request lines, chunked
bodies, smuggling attempts, and clients that send one byte every few seconds.
"""

from __future__ import annotations

import re
import select
import socket
import time
from dataclasses import dataclass, field

STATUS_LINE = re.compile(rb"(?:^|\r\n)(HTTP/\d\.\d) (\d{3})[^\r\n]*\r\n")
INTERIM = re.compile(rb"HTTP/\d\.\d 1\d\d[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n")


def final(raw: bytes) -> bytes:
    """The bytes from the first final (non-1xx) response on: 100 Continue is not an answer."""
    while match := INTERIM.match(raw):
        raw = raw[match.end() :]
    return raw


@dataclass
class Answer:
    """What a server sent back on one connection, and whether it closed it."""

    raw: bytes
    closed: bool
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def status(self) -> int:
        """The first final response's status; 0 when none came back."""
        match = STATUS_LINE.match(final(self.raw))
        return int(match.group(2)) if match else 0

    @property
    def status_line(self) -> bytes:
        """The final response's status line, or the last interim one when no final came."""
        return (final(self.raw) or self.raw).split(b"\r\n", 1)[0]

    @property
    def responses(self) -> int:
        """How many status lines came back: more than one means a second request was served."""
        return sum(1 for _, code in STATUS_LINE.findall(self.raw) if not code.startswith(b"1"))

    def text(self) -> str:
        return self.raw.decode("latin-1")

    def __repr__(self) -> str:
        return f"<Answer {self.raw[:400]!r}{'…' if len(self.raw) > 400 else ''} closed={self.closed}>"


def _parse_first(raw: bytes, head_only: bool) -> tuple[dict[str, str], bytes, bool]:
    """Headers and body of the first final response, and whether it is complete."""
    raw = final(raw)
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return {}, b"", False
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers.setdefault(name.strip().lower().decode("latin-1"), value.strip().decode("latin-1"))
    status = int(STATUS_LINE.match(raw).group(2)) if STATUS_LINE.match(raw) else 0
    if head_only or status in (204, 304):
        return headers, b"", True
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            return headers, rest, False
        return headers, rest[:length], len(rest) >= length
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return headers, rest, rest.endswith(b"0\r\n\r\n")
    return headers, rest, False


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def exchange(port: int, data: bytes, timeout: float = 5.0, head_only: bool = False, linger: float = 0.0) -> Answer:
    """Send `data`, read until the first response is complete (then `linger` seconds more,
    to catch a second response), the server closes, or `timeout` passes.

    A server may answer and close before reading everything: a failed send is not an error.
    """
    started = time.monotonic()
    chunks: list[bytes] = []
    closed = False
    with connect(port, timeout) as sock:
        try:
            sock.sendall(data)
        except OSError:
            pass
        deadline = started + timeout
        complete_at = None
        while True:
            now = time.monotonic()
            limit = deadline if complete_at is None else min(deadline, complete_at + linger)
            if now >= limit:
                break
            sock.settimeout(max(0.01, limit - now))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            chunks.append(chunk)
            if complete_at is None and _parse_first(b"".join(chunks), head_only)[2]:
                complete_at = time.monotonic()
                if not linger:
                    break
    raw = b"".join(chunks)
    headers, body, _ = _parse_first(raw, head_only)
    return Answer(raw=raw, closed=closed, seconds=time.monotonic() - started, headers=headers, body=body)


def request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", host: str | None = None, **kwargs
) -> Answer:
    """A well-formed request with exactly these headers (plus Host and Content-Length)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return exchange(port, head + body, head_only=method == "HEAD", **kwargs)


def stream_until_answered(port: int, head: bytes, piece: bytes, limit: int, timeout: float = 10.0) -> tuple[int, Answer]:
    """Send `head`, then `piece` after `piece` until the server answers, stops reading, or
    `limit` bytes went out. Returns the body bytes sent before that, and the answer.

    A small send buffer keeps the count close to what the server has taken in.
    """
    started = time.monotonic()
    sent = 0
    sock = connect(port, timeout)
    with sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sock.sendall(head)
        sock.setblocking(False)
        chunks: list[bytes] = []
        closed = False
        pending = memoryview(piece)
        while sent < limit and time.monotonic() - started < timeout:
            readable, writable, _ = select.select([sock], [sock], [], 0.5)
            if readable:
                break
            if writable:
                try:
                    written = sock.send(pending)
                except BlockingIOError:
                    continue
                except OSError:
                    break
                sent += written
                pending = pending[written:] or memoryview(piece)
        sock.setblocking(True)
        sock.settimeout(max(0.5, timeout - (time.monotonic() - started)))
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if _parse_first(b"".join(chunks), False)[2]:
                    break
            else:
                closed = True
        except TimeoutError:
            pass
        except OSError:
            closed = True
    raw = b"".join(chunks)
    headers, body, _ = _parse_first(raw, False)
    return sent, Answer(raw=raw, closed=closed, seconds=time.monotonic() - started, headers=headers, body=body)
