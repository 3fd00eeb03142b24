"""The chat's websocket figure: clients spread over two web processes, one Redis channel layer.

Client i connects to server i % 2 and joins room i // ROOM_SIZE, so every room has members
on both processes and every message crosses Redis to reach half of its room. Each client
sends one frame every 1/rate s for a bounded time; each frame carries its sender, sequence
number and send time, so every receiver can tell latency, duplicates and what never came.

The protocol (django_channels/chat/consumers.py): a text frame `{"text": ..., "author": ...}`
is saved and relayed to the room's group, the sender included, as a JSON frame that holds the
text; the first frame after connecting is the room's history. The client only relies on
"a JSON frame whose text is one of ours", so small protocol changes do not break it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from statistics import median

from websockets.asyncio.client import connect

ROOM_SIZE = 10  # 5 members on each process: every message is delivered 10 times, 5 across
CONNECT_AT_ONCE = 20  # concurrent handshakes (a thundering herd measures accept(), not chat)
OPEN_TIMEOUT = 30.0
GRACE = 10.0  # seconds after the last send for deliveries still under way (then: lost)
MARK = "bench"


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def find_text(payload) -> str | None:
    """The relayed text, wherever the frame keeps it (top level or a nested message)."""
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("text"), str):
        return payload["text"]
    nested = payload.get("message")
    return nested.get("text") if isinstance(nested, dict) and isinstance(nested.get("text"), str) else None


def parse_mark(text: str, run: str) -> tuple[int, int, int] | None:
    """(sender, seq, sent_ns) from one of this run's texts, else None."""
    parts = text.split()
    if len(parts) != 5 or parts[0] != MARK or parts[1] != run:
        return None
    try:
        return int(parts[2]), int(parts[3]), int(parts[4])
    except ValueError:
        return None


def summarize(
    clients: int,
    connected: int,
    sent: dict[int, int],
    seen: dict[int, set],
    latencies: list[tuple[bool, float]],
    room_of,
    seconds: float,
    errors: int,
) -> dict:
    """Expected deliveries = each sent frame times its room's connected members."""
    members: dict[int, int] = {}
    for client in seen:
        members[room_of(client)] = members.get(room_of(client), 0) + 1
    expected = sum(count * members.get(room_of(sender), 0) for sender, count in sent.items())
    delivered = sum(len(keys) for keys in seen.values())
    cross = [ms for is_cross, ms in latencies if is_cross]
    return {
        "clients": clients,
        "connected": connected,
        "sent": sum(sent.values()),
        "expected": expected,
        "delivered": delivered,
        "lost": max(0, expected - delivered),
        "delivered_per_s": delivered / seconds if seconds else 0.0,
        "p50_ms": percentile(cross, 50),
        "p99_ms": percentile(cross, 99),
        "p50_all_ms": median([ms for _, ms in latencies]) if latencies else None,
        "error_frames": errors,
        "seconds": seconds,
    }


async def _load(urls: list[str], clients: int, rate: float, seconds: float) -> dict:
    run = uuid.uuid4().hex[:8]
    sent: dict[int, int] = {}
    seen: dict[int, set] = {}
    latencies: list[tuple[bool, float]] = []
    errors = 0
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    sockets: dict[int, object] = {}

    def room_of(client: int) -> int:
        return client // ROOM_SIZE

    async def open_one(i: int) -> None:
        url = urls[i % len(urls)]
        origin = url.replace("ws://", "http://").split("/ws/")[0]
        async with gate:
            try:
                ws = await connect(f"{url}bench-{run}-{room_of(i)}/", origin=origin, open_timeout=OPEN_TIMEOUT, max_size=None)
                await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT)  # history (or whatever comes first)
            except Exception:  # noqa: BLE001 - a socket that did not open is counted, not fatal
                return
        sockets[i] = ws
        seen[i] = set()

    await asyncio.gather(*(open_one(i) for i in range(clients)))

    async def receive(i: int, ws) -> None:
        nonlocal errors
        try:
            async for frame in ws:
                now = time.monotonic_ns()
                try:
                    payload = json.loads(frame)
                except ValueError:
                    continue
                if isinstance(payload, dict) and payload.get("type") == "error":
                    errors += 1
                text = find_text(payload)
                mark = parse_mark(text, run) if text else None
                if mark is None:
                    continue
                sender, seq, sent_ns = mark
                if (sender, seq) not in seen[i]:
                    seen[i].add((sender, seq))
                    latencies.append(((sender % len(urls)) != (i % len(urls)), (now - sent_ns) / 1e6))
        except Exception:  # noqa: BLE001, S110 - closed at the end of the run, or by the server
            pass

    async def send(i: int, ws, until: float) -> None:
        await asyncio.sleep(random.random() / rate)  # noqa: S311 - spread the first sends
        seq = 0
        while time.monotonic() < until:
            text = f"{MARK} {run} {i} {seq} {time.monotonic_ns()}"
            try:
                await ws.send(json.dumps({"text": text, "author": f"bench{i}"}))
            except Exception:  # noqa: BLE001 - a socket the server closed: stop sending on it
                return
            sent[i] = seq = seq + 1
            await asyncio.sleep(1 / rate)

    receivers = [asyncio.create_task(receive(i, ws)) for i, ws in sockets.items()]
    started = time.monotonic()
    await asyncio.gather(*(send(i, ws, started + seconds) for i, ws in sockets.items()))
    # Wait for stragglers: until every expected delivery came or GRACE passed.
    deadline = time.monotonic() + GRACE
    while time.monotonic() < deadline:
        partial = summarize(clients, len(sockets), sent, seen, latencies, room_of, 1, errors)
        if partial["lost"] == 0:
            break
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    for ws in sockets.values():
        await ws.close()
    for task in receivers:
        task.cancel()
    return summarize(clients, len(sockets), sent, seen, latencies, room_of, elapsed, errors)


def chat_load(base_urls: list[str], clients: int, rate: float, seconds: float) -> dict:
    """Run the load against http://127.0.0.1:PORT base URLs; returns the figures."""
    urls = [u.replace("http://", "ws://") + "/ws/chat/" for u in base_urls]
    return asyncio.run(_load(urls, clients, rate, seconds))
