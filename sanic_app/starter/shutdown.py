"""Stop each worker once, however many stop signals arrive (README, "exceptions kept").
Heroku SIGTERMs every process at once and Sanic's manager SIGINTs its workers again; since
https://github.com/sanic-org/sanic/pull/3122 (25.12) the worker restores the default actions
after the first, so the second cut the drain short (tests/test_shutdown.py fails once Sanic
fixes it). A keep-alive connection busy at the stop would stay open 20 s: its last response closes it."""

import asyncio
import contextlib
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

    with contextlib.suppress(RuntimeError, ValueError):  # off the main thread (test client): Sanic's
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, stop_once)


def end_keep_alive_when_draining(request: Request, response: HTTPResponse) -> None:
    if getattr(request.app.ctx, "draining", False) and request.stream is not None:
        request.stream.keep_alive = False  # Sanic then sends `Connection: close`
