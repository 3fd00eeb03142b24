"""Stop each worker once, however many stop signals arrive (README, "exceptions kept").

Heroku SIGTERMs every process of the dyno at once and Sanic's manager then SIGINTs its
workers. Sanic's worker restores the default actions once the first signal stops its loop,
so the second one (KeyboardInterrupt, or death by SIGTERM) cut the graceful drain short.
Here each worker ignores later signals and starts the same graceful stop, still bounded
by GRACEFUL_SHUTDOWN_TIMEOUT (20 s). A connection busy when the drain starts would stay
open after its response (keep-alive) until that timeout: its last response closes it.
"""

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
        pass  # no signal handlers off the main thread (the test client): Sanic's defaults


def end_keep_alive_when_draining(request: Request, response: HTTPResponse) -> None:
    if getattr(request.app.ctx, "draining", False) and request.stream is not None:
        request.stream.keep_alive = False  # Sanic then sends `Connection: close`
