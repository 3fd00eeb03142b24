"""A Sanic app for Heroku: `create_app()` builds it from the environment."""

import asyncio
from email.utils import formatdate
from http import HTTPStatus

from sanic import Request, Sanic
from sanic.config import Config
from sanic.exceptions import BadRequest, SanicException
from sanic.headers import parse_host
from sanic.log import error_logger
from sanic.response import HTTPResponse, json

from . import contract, db, notes
from .config import SANIC_DEFAULTS, Settings, host_allowed
from .shutdown import end_keep_alive_when_draining, install_stop_once
from .strict_http import StrictRequest

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def create_app(settings: Settings | None = None) -> Sanic:
    settings = settings or Settings.from_env()
    app = Sanic("starter", config=Config(defaults=SANIC_DEFAULTS), request_class=StrictRequest)
    app.ctx.settings = settings
    app.blueprint(contract.bp)
    app.blueprint(notes.bp)
    # In every worker (not in Sanic's manager), so each worker owns exactly one pool.
    app.before_server_start(db.open_pool)
    app.after_server_stop(db.close_pool)

    if settings.allowed_hosts is not None:  # ALLOWED_HOSTS (config.py); Sanic has no Host check

        @app.on_request
        async def refuse_other_hosts(request: Request) -> None:
            # The Host header the client sent, never X-Forwarded-Host (a client sets that freely).
            if not host_allowed(parse_host(request.headers.getone("host", ""))[0], settings.allowed_hosts):
                raise BadRequest("this host is not in ALLOWED_HOSTS")

    @app.after_server_start  # after Sanic has installed its own signal handlers
    async def stop_once_on_signals(app: Sanic) -> None:
        install_stop_once(app, asyncio.get_running_loop())

    # Every error is {"error": "..."} with its status, whatever DEBUG says: never a
    # traceback or a debug page (tracebacks of real bugs go to the log).
    @app.exception(Exception)
    async def json_error(request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, SanicException) and (exception.status_code < 500 or exception.quiet):
            status, message = exception.status_code, str(exception)
        else:
            error_logger.exception("%s %s failed", request.method, request.path, exc_info=exception)
            status, message = 500, ""
        if not message or len(message) > 200 or not message.isprintable():
            # Sanic's own messages quote the request: never echo a long or binary one.
            message = HTTPStatus(status).phrase
        headers = dict(getattr(exception, "headers", None) or {})  # a 405 keeps Allow
        return json({"error": message}, status=status, headers=headers)

    # Sanic sends no Date and has no setting for it; RFC 9110 section 6.6.1 requires
    # one on every 2xx-4xx answer. Response middleware also runs for error answers.
    @app.on_response
    async def every_response_headers(request: Request, response: HTTPResponse) -> None:
        response.headers.setdefault("Date", formatdate(usegmt=True))
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        end_keep_alive_when_draining(request, response)

    return app
