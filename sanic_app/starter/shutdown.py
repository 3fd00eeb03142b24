"""Stop each worker once, however many stop signals it receives.

Heroku (and the shared suite) sends SIGTERM to every process of the dyno at once, and
Sanic's manager process then sends its workers a SIGINT of its own. Sanic's worker
removes its handlers as soon as the first signal stops the loop, which restores the
default actions: the second signal then interrupts the graceful drain (SIGINT raises
KeyboardInterrupt, SIGTERM kills the process) and requests in flight are cut off.

This listener replaces Sanic's handlers in the worker with one that ignores every later
SIGINT/SIGTERM and then starts the same graceful stop. The drain stays bounded by
GRACEFUL_SHUTDOWN_TIMEOUT (20 s), and Heroku's SIGKILL at 30 s remains the backstop.

Sanic closes the connections that are idle when the drain starts, but a connection
busy at that moment stays open after its response (keep-alive) until the drain times
out. `end_keep_alive_when_draining` marks those last responses `Connection: close`, so
the worker exits as soon as its requests in flight are answered.
"""

from __future__ import annotations

import asyncio
import signal

from sanic import Request, Sanic
from sanic.log import logger as log
from sanic.response import HTTPResponse

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def install_stop_once(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
    app.ctx.draining = False

    def stop_once() -> None:
        app.ctx.draining = True
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_IGN)
        log.info("stop signal received: finishing requests in flight, then exiting")
        app.stop(terminate=False)

    try:
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop_once)
    except (NotImplementedError, RuntimeError, ValueError):
        # No signal handlers here (Windows, or a loop off the main thread in tests).
        log.debug("stop signals left to Sanic's defaults")


def end_keep_alive_when_draining(request: Request, response: HTTPResponse) -> None:
    if getattr(request.app.ctx, "draining", False) and request.stream is not None:
        # Sanic's HTTP/1 stream sends `Connection: close` and ends the connection.
        request.stream.keep_alive = False
