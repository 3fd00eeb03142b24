"""Every error answers with a JSON message; no traceback or debug page ever leaves."""

import logging

from flask import Flask, abort, jsonify, request
from gunicorn.http.errors import ParseException
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

# The contract's limit for a declared request body, on every route.
MAX_BODY_BYTES = 1024 * 1024

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Bad input a client can fix: a 4xx with a message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def describe_failure(exc: BaseException) -> str:
    """The first line of what went wrong, without SQL or parameters."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    if isinstance(exc, PoolTimeout):
        return "no free connection in the pool"
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return first_line[:200]


def check_request():
    # Runs before routing errors are raised, so a 2 MiB POST to a GET-only
    # route is a 413, not a 405.
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise RequestEntityTooLarge(f"request body over {MAX_BODY_BYTES} bytes")
    # RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request
    # without Host. gunicorn refuses two Host headers itself, but leaves a
    # missing one to the app.
    if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "Host" not in request.headers:
        abort(400, "an HTTP/1.1 request needs a Host header")


def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"
        )
    return response


def http_error(exc: HTTPException):
    response = exc.get_response()  # keeps headers such as Allow on a 405
    response.set_data(jsonify(error=exc.description or exc.name).get_data())
    response.mimetype = "application/json"
    return response


def malformed_body(exc: ParseException):
    # gunicorn parses a chunked body while the app reads it, so its errors (bad
    # chunk size or extension, missing CRLF, a forbidden trailer) surface here.
    return jsonify(error=f"malformed request body: {str(exc)[:100]}"), 400


def api_error(exc: ApiError):
    return jsonify(error=exc.message), exc.status


def database_unavailable(exc: Exception):
    log.warning("database unavailable: %s", describe_failure(exc))
    return jsonify(error=f"database unavailable: {describe_failure(exc)}"), 503


def unexpected_error(exc: Exception):
    log.exception("unhandled error")
    return jsonify(error="internal server error"), 500


def register(app: Flask) -> None:
    app.before_request(check_request)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ApiError, api_error)
    app.register_error_handler(ParseException, malformed_body)
    for failure in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(failure, database_unavailable)
    if not app.debug:
        # With DEBUG explicitly on, `flask run` shows Werkzeug's debugger instead.
        app.register_error_handler(Exception, unexpected_error)
