"""Daphne's own command line, with a SIGTERM that lets HTTP requests in flight finish.

    python -m daphne_drain <the usual daphne arguments>

Plain Daphne hands SIGTERM to Twisted, which stops the reactor at once, and Daphne then
cancels every application still running: a request waiting on the database gets no
answer. Heroku sends SIGTERM on every deploy, restart and daily cycle, and SIGKILL 30 s
later. Daphne has no option for this yet: https://github.com/django/daphne/issues/177
(tests/test_drain.py fails when plain Daphne starts answering requests in flight at
SIGTERM, and then this module should go). Public APIs only: Daphne's CLI and Server
attributes, Twisted's reactor calls, asyncio's signal handlers.
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
POLL_SECONDS = 0.1


def requests_in_flight(server):
    """HTTP requests not answered yet, or answered while Django is still finishing them."""
    pending = []
    for protocol, details in list(server.connections.items()):
        application = details.get("application_instance")
        unfinished = "disconnected" not in details or (application is not None and not application.done())
        if isinstance(protocol, WebRequest) and unfinished:
            pending.append(protocol)
    return pending


def stop_when_idle(server, deadline):
    pending = requests_in_flight(server)
    if pending and time.monotonic() < deadline:
        reactor.callLater(POLL_SECONDS, stop_when_idle, server, deadline)
        return
    if pending:
        logger.warning("drain deadline reached with %d request(s) unanswered", len(pending))
    server.stop()


def drain(server):
    logger.info("SIGTERM: waiting for %d request(s) in flight, up to %d s", len(requests_in_flight(server)), DRAIN_SECONDS)
    stop_when_idle(server, time.monotonic() + DRAIN_SECONDS)


def take_over_signals(cli):
    # Runs once the reactor is up, after Twisted installed its own handlers (which stop it).
    loop = asyncio.get_event_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, drain, cli.server)


def main(argv):
    cli = CommandLineInterface()
    reactor.callWhenRunning(take_over_signals, cli)
    cli.run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
