"""Daphne, with a SIGTERM that lets requests in flight finish.

    python -m chatsite.graceful_daphne <the usual daphne arguments>

Plain Daphne hands SIGTERM to Twisted, which stops the reactor at once; Daphne then
cancels every application instance still running, so a request waiting on the database
is dropped without a response (tried: four requests blocked on a table lock all got
"server disconnected" and the process hung). Heroku sends SIGTERM on every deploy,
restart and daily cycling, and SIGKILL 30 s later.

This is Daphne's own command line and Server class (same flags, same protocol code);
only the signal handling differs. On SIGTERM or SIGINT it:
  1. stops accepting connections (the router sends new ones to other dynos),
  2. closes websockets (code 1000, "server restarting"), so browsers reconnect elsewhere,
  3. waits for HTTP requests in flight, up to DRAIN_SECONDS,
  4. stops the reactor and exits.
"""

import logging
import os
import signal
import sys
import time

# daphne.cli imports daphne.server, which installs Twisted's asyncio reactor before any
# other Twisted import can install the default one.
from daphne.cli import CommandLineInterface
from daphne.http_protocol import WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor
from twisted.internet.error import ReactorNotRunning

logger = logging.getLogger(__name__)

# Heroku's SIGKILL comes 30 s after SIGTERM; keep 5 s for the shutdown itself.
DRAIN_SECONDS = 25.0
POLL_SECONDS = 0.05


class DrainingServer(Server):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.signal_handlers = False  # not Twisted's: it stops the reactor at once
        self.ports = []
        self.draining = False

    def run(self):
        loop = reactor._asyncioEventloop
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.drain, signal.Signals(signum).name)
        super().run()

    def listen_success(self, port):
        self.ports.append(port)
        return super().listen_success(port)

    def requests_in_flight(self):
        """HTTP requests not answered yet, or answered while the application is still
        finishing (Django returns its database connection after the response)."""
        pending = []
        for protocol, details in self.connections.items():
            application = details.get("application_instance")
            unfinished = "disconnected" not in details or (application and not application.done())
            if isinstance(protocol, WebRequest) and unfinished:
                pending.append(protocol)
        return pending

    def drain(self, signal_name):
        if self.draining:
            logger.warning("second %s: stopping without waiting", signal_name)
            try:
                self.stop()
            except ReactorNotRunning:
                pass  # already on its way down
            return
        self.draining = True
        logger.info(
            "%s: draining %d request(s) in flight, up to %.0f s",
            signal_name,
            len(self.requests_in_flight()),
            DRAIN_SECONDS,
        )
        for port in self.ports:
            port.stopListening()
        for protocol, details in list(self.connections.items()):
            if isinstance(protocol, WebSocketProtocol) and "disconnected" not in details:
                # 1000 with a reason: autobahn sends only 1000 or 3000-4999, not 1001.
                protocol.sendClose(code=1000, reason="server restarting")
        self.stop_when_idle(time.monotonic() + DRAIN_SECONDS)

    def stop_when_idle(self, deadline):
        pending = self.requests_in_flight()
        if pending and time.monotonic() < deadline:
            reactor.callLater(POLL_SECONDS, self.stop_when_idle, deadline)
            return
        if pending:
            logger.warning("drain deadline reached with %d request(s) unfinished", len(pending))
        self.stop()


class DrainingCommandLine(CommandLineInterface):
    server_class = DrainingServer


def main():
    DrainingCommandLine.entrypoint()
    from chatsite.db import close_database_pools  # Django is set up by now

    close_database_pools()
    logger.info("stopped")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every request has been answered or has outlived the drain. A worker thread still
    # blocked in a database read would hold interpreter shutdown until SIGKILL, so leave
    # without waiting for it.
    os._exit(0)


if __name__ == "__main__":
    main()
