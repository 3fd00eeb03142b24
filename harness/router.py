"""A stand-in for Heroku's HTTP router in front of one web dyno, on aiohttp (server and client).

Each behaviour below cites a section of Heroku Dev Center, "HTTP Routing"
(https://devcenter.heroku.com/articles/http-routing). That page describes the Common Runtime's
two routers; this follows Router 2.0, the one Heroku recommends and new apps get today (its
answers carry `Via: 1.1 heroku-router`; the legacy router's said `1.1 vegur`). What the app
sees is what this reproduces: its host name, the forwarding headers, the timeouts, buffering
and websockets. TLS ends at Heroku's load balancer before the router ("Routing"), so this
router listens on plain HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator

from aiohttp import ClientSession, ClientTimeout, WSMsgType, WSServerHandshakeError, web
from aiohttp.client_exceptions import ClientError

# "Timeouts": the app has an initial 30 s window to send the first byte of its response;
# after it the router answers 503 and logs H12 (Request timeout).
FIRST_BYTE_LIMIT = 30.0
# "Timeouts": once the first byte is sent, a rolling 55 s window for each further byte.
ROLLING_LIMIT = 55.0
# "WebSockets": the same 55 s rule; a websocket with no data either way for 55 s is closed.
WEBSOCKET_IDLE_LIMIT = 55.0
# "Dyno Connection Behavior on the Common Runtime": a dyno that does not accept the
# connection within 5 s gets an H19/H13 error page with status 503.
CONNECT_LIMIT = 5.0
# "Request Buffering": the router buffers up to 1 MB of a request body before it sends the
# request to the dyno, so a slow upload of a small body reaches the dyno at once; past 1 MB
# the rest is streamed as it arrives.
REQUEST_BODY_BUFFER = 1024 * 1024
# "Response Buffering": the router reads up to 1 MB of the response ahead of a slow client,
# so the dyno is done with a response of up to 1 MB even if the client reads it slowly.
RESPONSE_BUFFER = 1024 * 1024
# "Heroku Headers": Via names the router (Router 2.0: "1.1 heroku-router").
VIA = "1.1 heroku-router"
# Connection-level headers (RFC 9110 7.6.1) are the router's own on each hop; Host is the
# app's; Expect is answered by the router itself ("Expect: 100-continue").
# aiohttp's client adds these when a request lacks them; the router forwards what the client sent.
CLIENT_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
NOT_FORWARDED = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "expect",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "sec-websocket-accept",
}


def forwarded(headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in NOT_FORWARDED}


class Router:
    """`Router(dyno_port, host)` forwards 127.0.0.1:`port` to the web dyno as `host`."""

    def __init__(
        self,
        dyno_port: int,
        host: str,
        port: int = 0,
        dyno: str = "web.1",
        first_byte_limit: float = FIRST_BYTE_LIMIT,
        websocket_idle_limit: float = WEBSOCKET_IDLE_LIMIT,
    ):
        self.dyno_port, self.host, self.dyno = dyno_port, host, dyno
        # Heroku's limits unless given: tests/test_router.py checks them on shorter ones.
        self.first_byte_limit, self.websocket_idle_limit = first_byte_limit, websocket_idle_limit
        self.requested_port = port
        self.port = 0
        self.log: list[str] = []  # Heroku's router log lines ("Heroku Router Log Format")
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Router:
        self._thread.start()
        self._ready.wait(10)
        assert self.port, "the router did not start"
        return self

    def stop(self) -> None:
        if self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        # "Keepalives": Router 2.0 keeps connections to the dyno open and reuses them.
        self.session = ClientSession(
            auto_decompress=False,
            timeout=ClientTimeout(total=None, connect=CONNECT_LIMIT),
        )
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.requested_port)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stopped.wait()
        await runner.cleanup()
        await self.session.close()

    def _headers(self, request: web.Request, request_id: str, started: float) -> dict[str, str]:
        """ "Heroku Headers": what the router adds to every request it forwards."""
        headers = forwarded(request.headers)
        chain = request.headers.get("X-Forwarded-For")
        headers.update(
            {
                "Host": self.host,
                # the client's address appended to any X-Forwarded-For the client sent
                "X-Forwarded-For": f"{chain}, {request.remote}" if chain else request.remote,
                "X-Forwarded-Proto": "https",  # the scheme the client used on the load balancer
                "X-Forwarded-Port": "443",  # the port the client connected to
                "X-Request-Id": request_id,  # "HTTP Request IDs": a UUID per request
                "X-Request-Start": str(int(started * 1000)),  # Unix time in ms the router got it
                "Via": f"{request.headers['Via']}, {VIA}" if "Via" in request.headers else VIA,
            }
        )
        return headers

    def _log(
        self, request: web.Request, request_id: str, started: float, status: int, size: int, code: str | None = None
    ) -> None:
        service = int((time.time() - started) * 1000)
        at = f'at=error code={code} desc="{ERRORS[code]}"' if code else "at=info"
        self.log.append(
            f'heroku[router]: {at} method={request.method} path="{request.path_qs}" host={self.host} '
            f'request_id={request_id} fwd="{request.remote}" dyno={self.dyno} service={service}ms '
            f"status={status} bytes={size} protocol=https"
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started, request_id = time.time(), str(uuid.uuid4())
        headers = self._headers(request, request_id, started)
        url = f"http://127.0.0.1:{self.dyno_port}{request.raw_path}"
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request, url, headers, request_id, started)
        body = await self._buffered_body(request)
        try:
            async with asyncio.timeout(self.first_byte_limit):
                upstream = await self.session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=body if request.body_exists else None,
                    allow_redirects=False,
                    skip_auto_headers=CLIENT_HEADERS,
                )
        except TimeoutError:
            return self._error(request, request_id, started, "H12")
        except (ClientError, OSError):
            return self._error(request, request_id, started, "H13")
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            response.headers.extend(forwarded(upstream.headers))
            response.headers.add("Via", VIA)
            await response.prepare(request)
            if request.transport is not None:
                request.transport.set_write_buffer_limits(high=RESPONSE_BUFFER)
            size = 0
            try:
                while True:
                    async with asyncio.timeout(ROLLING_LIMIT):
                        chunk = await upstream.content.readany()
                    if not chunk:
                        break
                    size += len(chunk)
                    await response.write(chunk)
            except TimeoutError:
                self._log(request, request_id, started, upstream.status, size, "H15")
                raise  # the connection is dropped mid-response, as Heroku does
            await response.write_eof()
        self._log(request, request_id, started, upstream.status, size)
        return response

    async def _buffered_body(self, request: web.Request) -> bytes | AsyncIterator[bytes]:
        buffered = bytearray()
        while len(buffered) < REQUEST_BODY_BUFFER:
            chunk = await request.content.read(REQUEST_BODY_BUFFER - len(buffered))
            if not chunk:
                return bytes(buffered)
            buffered += chunk

        async def rest() -> AsyncIterator[bytes]:
            yield bytes(buffered)
            async for chunk in request.content.iter_any():
                yield chunk

        return rest()

    def _error(self, request, request_id, started, code: str) -> web.Response:
        """Heroku's error page: status 503 for H12 (Request timeout) and H13 (Connection closed
        without response), as "Timeouts" and Heroku's error codes page give them."""
        self._log(request, request_id, started, 503, 0, code)
        return web.Response(status=503, text=f"Application error ({code}: {ERRORS[code]})\n", headers={"Via": VIA})

    async def _websocket(self, request, url, headers, request_id, started) -> web.StreamResponse:
        """ "WebSockets": the router passes the upgrade through to the dyno and then relays
        frames both ways; 55 s without a frame either way closes both sides."""
        protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
        try:
            async with asyncio.timeout(self.first_byte_limit):
                upstream = await self.session.ws_connect(
                    url,
                    headers={name: value for name, value in headers.items() if name.lower() != "content-length"},
                    protocols=protocols,
                    autoping=False,
                    max_msg_size=0,
                )
        except WSServerHandshakeError as refused:
            self._log(request, request_id, started, refused.status, 0)
            return web.Response(status=refused.status, headers={"Via": VIA})
        except TimeoutError:
            return self._error(request, request_id, started, "H12")
        except (ClientError, OSError):
            return self._error(request, request_id, started, "H13")
        client = web.WebSocketResponse(
            protocols=[upstream.protocol] if upstream.protocol else (),
            autoping=False,
            max_msg_size=0,
        )
        await client.prepare(request)
        self._log(request, request_id, started, 101, 0)
        last_frame = time.monotonic()

        async def relay(source, sink) -> None:
            nonlocal last_frame
            async for message in source:
                last_frame = time.monotonic()
                if message.type == WSMsgType.TEXT:
                    await sink.send_str(message.data)
                elif message.type == WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type == WSMsgType.PING:
                    await sink.ping(message.data)
                elif message.type == WSMsgType.PONG:
                    await sink.pong(message.data)
            await sink.close(code=source.close_code or 1000)

        async def idle_timer() -> None:
            while (idle := time.monotonic() - last_frame) < self.websocket_idle_limit:
                await asyncio.sleep(self.websocket_idle_limit - idle)
            await client.close(code=1001)
            await upstream.close(code=1001)

        tasks = [asyncio.ensure_future(job) for job in (relay(client, upstream), relay(upstream, client), idle_timer())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()
        await upstream.close()
        return client


ERRORS = {
    "H12": "Request timeout",
    "H13": "Connection closed without response",
    "H15": "Idle connection",
}
