"""Daphne's own command line, with a SIGTERM that lets HTTP requests in flight finish.

Plain Daphne lets Twisted stop at once on SIGTERM and cancels every request still running:
they get no answer. Heroku sends SIGTERM on every deploy, restart and daily cycle (SIGKILL
30 s later). Upstream: https://github.com/django/daphne/issues/177. tests/test_drain.py
fails once plain Daphne answers them itself; then delete this module. No private
attributes: it reads Daphne's public `Server.connections`, which that test guards.
"""

import asyncio
import logging
import signal
import sys
import time

from daphne.cli import CommandLineInterface  # installs Twisted's asyncio reactor first
from daphne.http_protocol import WebRequest
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


def stop_when_idle(server, deadline):
    pending = requests_in_flight(server)
    if pending and time.monotonic() < deadline:
        reactor.callLater(0.1, stop_when_idle, server, deadline)
        return
    if pending:
        logger.warning("drain deadline reached with %d request(s) unanswered", len(pending))
    server.stop()


def take_over_signals(cli):
    """Runs once the reactor is up, after Twisted installed its own handlers (which stop it)."""

    def drain():
        logger.info("SIGTERM: draining %d request(s) in flight, up to %d s", len(requests_in_flight(cli.server)), DRAIN_SECONDS)
        stop_when_idle(cli.server, time.monotonic() + DRAIN_SECONDS)

    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_event_loop().add_signal_handler(signum, drain)


if __name__ == "__main__":
    cli = CommandLineInterface()
    reactor.callWhenRunning(take_over_signals, cli)
    cli.run(sys.argv[1:])
