"""Daphne's own command line, with a SIGTERM that lets HTTP requests in flight finish and
closes the chat's websockets with a close frame.

Plain Daphne lets Twisted stop at once on SIGTERM and cancels every request still running:
they get no answer, and websocket clients see the connection drop without a close frame
(1006). Heroku sends SIGTERM on every deploy, restart and daily cycle (SIGKILL 30 s later).
Upstream: https://github.com/django/daphne/issues/177. tests/test_drain.py fails once plain
Daphne answers them itself; then delete the HTTP part. What it relies on: Daphne's
`Server.connections` and two keys of its per-connection dict, "application_instance" and
"disconnected", which are not documented API; tests/test_drain.py fails if they change. It
asks the sockets to close through the consumers' own channel layer
(chat.consumers.close_every_socket), with code 1000: Autobahn refuses 1001 from a server
(https://github.com/crossbario/autobahn-python/issues/1642, django/daphne#374).
"""

import asyncio
import logging
import signal
import sys
import time

from daphne.cli import CommandLineInterface  # installs Twisted's asyncio reactor first
from daphne.http_protocol import WebRequest
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor

logger = logging.getLogger("daphne_drain")

DRAIN_SECONDS = 25  # Heroku's SIGKILL comes 30 s after SIGTERM; 5 s left to stop


def requests_in_flight(server):
    """HTTP requests not answered yet, or answered while Django is still finishing them."""
    pending = []
    for protocol, details in list(server.connections.items()):
        application = details.get("application_instance")  # Daphne deletes it once finished
        unfinished = "disconnected" not in details or (application is not None and not application.done())
        if isinstance(protocol, WebRequest) and unfinished:
            pending.append(protocol)
    return pending


def open_websockets(server):
    return [
        protocol
        for protocol, details in list(server.connections.items())
        if isinstance(protocol, WebSocketProtocol) and "disconnected" not in details
    ]


def stop_when_idle(server, deadline, goodbye):
    """Stop once no request is in flight and, if the sockets were asked to close, none is open."""
    pending = requests_in_flight(server)
    # A goodbye that failed (Redis gone) leaves nothing to wait for: the drain still stops.
    if goodbye is not None and (not goodbye.done() or (goodbye.exception() is None and goodbye.result())):
        pending += open_websockets(server)
    if pending and time.monotonic() < deadline:
        reactor.callLater(0.1, stop_when_idle, server, deadline, goodbye)
        return
    if pending:
        logger.warning("drain deadline reached with %d request(s) or socket(s) open", len(pending))
    server.stop()


def take_over_signals(cli):
    """Runs once the reactor is up, after Twisted installed its own handlers (which stop it)."""

    def drain():
        logger.info(
            "SIGTERM: draining %d request(s) in flight and closing %d websocket(s), up to %d s",
            len(requests_in_flight(cli.server)),
            len(open_websockets(cli.server)),
            DRAIN_SECONDS,
        )
        # Loaded with the app's websocket routes; absent when Daphne serves another app.
        consumers = sys.modules.get("chat.consumers")
        goodbye = asyncio.ensure_future(consumers.close_every_socket()) if consumers else None
        stop_when_idle(cli.server, time.monotonic() + DRAIN_SECONDS, goodbye)

    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_event_loop().add_signal_handler(signum, drain)


if __name__ == "__main__":
    cli = CommandLineInterface()
    reactor.callWhenRunning(take_over_signals, cli)
    cli.run(sys.argv[1:])
