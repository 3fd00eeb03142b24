"""A Sanic app for Heroku: `create_app()` builds it from the environment."""

from __future__ import annotations

import asyncio
from http import HTTPStatus

from sanic import Request, Sanic
from sanic.config import Config
from sanic.exceptions import SanicException
from sanic.log import error_logger, logger
from sanic.response import HTTPResponse, json

from . import contract, db, notes
from .config import SANIC_DEFAULTS, Settings
from .shutdown import end_keep_alive_when_draining, install_stop_once
from .strict_http import StrictRequest

APP_NAME = "starter"
# Error messages are for people: short, and never a copy of a huge input.
MESSAGE_MAX = 200

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def create_app(settings: Settings | None = None) -> Sanic:
    settings = settings or Settings.from_env()
    app = Sanic(APP_NAME, config=Config(defaults=SANIC_DEFAULTS), request_class=StrictRequest)
    app.ctx.settings = settings
    app.blueprint(contract.bp)
    app.blueprint(notes.bp)

    # Runs in every worker process (not in Sanic's manager process), so each worker
    # owns exactly one pool; closed after the graceful drain.
    app.before_server_start(db.open_pool)
    app.after_server_stop(db.close_pool)

    @app.main_process_start
    async def say_when_workers_are_clamped(app: Sanic) -> None:
        if settings.workers < settings.web_concurrency:
            logger.warning(
                "WEB_CONCURRENCY=%d does not fit DATABASE_CONNECTION_LIMIT=%d: running %d workers",
                settings.web_concurrency, settings.connection_limit, settings.workers,
            )

    # Runs after Sanic has installed its own signal handlers in the worker.
    @app.after_server_start
    async def stop_once_on_signals(app: Sanic) -> None:
        install_stop_once(app, asyncio.get_running_loop())

    # Every error is `{"error": "..."}` with its status, whatever DEBUG says: never a
    # traceback or a debug page (tracebacks of real bugs go to the log).
    @app.exception(Exception)
    async def json_error(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException) and (exception.status_code < 500 or exception.quiet):
            # 4xx from the parser, routing and validation, 503 from the database layer.
            message, status = str(exception) or "request failed", exception.status_code
            headers = dict(exception.headers or {})  # 405 keeps Allow
        else:
            error_logger.exception("%s %s failed", request.method, request.path, exc_info=exception)
            message, status, headers = "internal server error", 500, {}
        if len(message) > MESSAGE_MAX or not message.isprintable():
            # Sanic's own messages quote the request (URL, method): never echo a long
            # or binary one back; the status phrase says enough.
            message = HTTPStatus(status).phrase
        return json({"error": message}, status=status, headers=headers)

    @app.on_response
    async def security_headers(request: Request, response: HTTPResponse) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        end_keep_alive_when_draining(request, response)

    return app
