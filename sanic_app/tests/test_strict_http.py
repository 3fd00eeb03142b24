"""starter/strict_http.py exists only for two Sanic bugs. These tests run a bare Sanic
app (no request_class) beside ours over raw sockets: when a Sanic upgrade fixes either
bug, the `upstream_*` test fails, and the module (with `request_class=`) can go."""

from __future__ import annotations

import asyncio

import pytest
from sanic import Sanic, text
from starter import create_app
from starter.config import Settings

SMUGGLED = (
    b"POST /json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n"
    b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
)
CONNECT = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
NO_HOST = b"GET /json HTTP/1.1\r\nConnection: close\r\n\r\n"
TWO_HOSTS = b"GET /json HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"
CONTROL_BYTE = b"GET /a\x01b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def bare_app() -> Sanic:
    app = Sanic("bare")

    @app.route("/json", methods=["GET", "POST"])
    async def handler(request):
        return text("served")

    return app


def exchange(app: Sanic, data: bytes) -> bytes:
    """Serve `app` on a free loopback port, send `data`, return everything answered."""

    async def run() -> bytes:
        server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True)
        await server.startup()
        port = server.server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(data)
            answer = b""
            try:
                while chunk := await asyncio.wait_for(reader.read(65536), timeout=1.0):
                    answer += chunk
            except (TimeoutError, ConnectionError):
                pass
            writer.close()
            return answer
        finally:
            await server.close()

    return asyncio.run(run())


@pytest.fixture(autouse=True)
def _test_mode():
    Sanic.test_mode = True


def statuses(answer: bytes) -> list[bytes]:
    return [line.split(b" ")[1] for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


def test_upstream_sanic_still_serves_a_request_smuggled_behind_a_spaced_transfer_encoding():
    # POST /json is the legitimate request ("served"); only the smuggled request names
    # /smuggled, in the answer Sanic's router gives it (a 405 today, its method parsed wrong).
    answer = exchange(bare_app(), SMUGGLED)
    assert b"/smuggled" in answer.split(b"served", 1)[-1], answer


def test_upstream_sanic_still_answers_nothing_to_an_unparsable_target():
    # https://github.com/sanic-org/sanic/issues/2735
    assert exchange(bare_app(), CONNECT) == b""


@pytest.mark.parametrize("data", [NO_HOST, TWO_HOSTS])
def test_upstream_sanic_still_serves_http11_without_exactly_one_host(data):
    assert statuses(exchange(bare_app(), data)) == [b"200"]


@pytest.mark.parametrize("data", [SMUGGLED, CONNECT, NO_HOST, TWO_HOSTS, CONTROL_BYTE])
def test_our_app_answers_one_400_and_closes(data):
    answer = exchange(create_app(Settings()), data)
    assert statuses(answer) == [b"400"]
    assert b"connection: close" in answer.lower()
    assert b'{"error":' in answer
