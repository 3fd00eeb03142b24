"""A Sanic app for Heroku: `create_app()` builds it from the environment."""

from __future__ import annotations

import asyncio
import os
from email.utils import formatdate

from sanic import Request, Sanic
from sanic.config import Config
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.handlers import ErrorHandler
from sanic.logging.formatter import AutoFormatter
from sanic.response import HTTPResponse, json

from . import contract, notes
from .config import SANIC_DEFAULTS, Settings
from .db import Database
from .shutdown import end_keep_alive_when_draining, install_stop_once

APP_NAME = "starter"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class JSONErrorHandler(ErrorHandler):
    """Every error is `{"error": "..."}` with its status: never a traceback or a debug
    page, whatever DEBUG says (tracebacks go to the log instead)."""

    def default(self, request: Request, exception: BaseException) -> HTTPResponse:
        if isinstance(exception, SanicException):
            # 4xx from routing and validation, 413 from the protocol, 503 from the
            # database layer; their messages are written for clients. 405 keeps Allow.
            if exception.status_code >= 500 and not exception.quiet:
                self.log(request, exception)
            return json(
                {"error": str(exception) or "request failed"},
                status=exception.status_code,
                headers=dict(exception.headers or {}),
            )
        self.log(request, exception)
        return json({"error": "internal server error"}, status=500)


def create_app(settings: Settings | None = None) -> Sanic:
    settings = settings or Settings.from_env()
    app = Sanic(APP_NAME, config=Config(defaults=SANIC_DEFAULTS), error_handler=JSONErrorHandler())
    app.ctx.settings = settings
    app.ctx.db = Database(settings.database_url, settings.pool_max_size)
    app.blueprint(contract.bp)
    app.blueprint(notes.bp)

    # Workers forked by web.py inherit the manager's log prefix ("Main"); Sanic names
    # each worker in the environment before it starts ("Srv 0", "Srv 1", ...).
    @app.before_server_start
    async def name_worker_in_logs(app: Sanic) -> None:
        AutoFormatter.IDENT = os.environ.get("SANIC_WORKER_IDENTIFIER") or AutoFormatter.IDENT

    # Runs in every worker process (not in Sanic's manager process), so each worker
    # owns exactly one pool.
    @app.before_server_start
    async def open_database(app: Sanic) -> None:
        await app.ctx.db.open()

    # Runs after Sanic has installed its own signal handlers in the worker.
    @app.after_server_start
    async def stop_once_on_signals(app: Sanic) -> None:
        install_stop_once(app, asyncio.get_running_loop())

    # Runs after the graceful drain, so requests in flight keep their connections.
    @app.after_server_stop
    async def close_database(app: Sanic) -> None:
        await app.ctx.db.close()

    # Sanic checks the body size only when a handler reads the body, which happens
    # after routing: a 2 MiB POST to a GET-only route would get 405 and a 404 path
    # would get 404. This signal fires as soon as the headers are parsed, before
    # routing, so a declared Content-Length over the limit is 413 on every route.
    @app.signal("http.lifecycle.request")
    async def refuse_oversized_body(request: Request) -> None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > app.config.REQUEST_MAX_SIZE:
            raise PayloadTooLarge("Request body exceeds the size limit")

    @app.on_response
    async def standard_headers(request: Request, response: HTTPResponse) -> None:
        # Sanic sends neither Server nor Date by itself.
        response.headers.setdefault("Server", "Sanic")
        response.headers.setdefault("Date", formatdate(usegmt=True))
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        end_keep_alive_when_draining(request, response)

    return app
