"""Every error answers with a short JSON message; no traceback or debug page leaves."""

from flask import Flask, abort, current_app, jsonify, request
from gunicorn.http.errors import ParseException
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

# The contract's limit for a request body, on every route.
MAX_BODY_BYTES = 1024 * 1024


def describe_failure(exc: BaseException) -> str:
    """The first line of what went wrong, without SQL or parameters."""
    if isinstance(exc, PoolTimeout):
        return "no free connection in the pool"
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]


def check_request():
    # Before routing, so a 2 MiB POST to a GET-only route is a 413, not a 405. Werkzeug
    # stops reading a chunked body at MAX_CONTENT_LENGTH without an error: one that
    # reached it is too large. Without Content-Length or Transfer-Encoding a request has
    # no body (RFC 9112 section 6.3): nothing to read (reading it cost ~30 us per GET).
    declared = request.content_length
    chunked = declared is None and "Transfer-Encoding" in request.headers
    if (declared or 0) > MAX_BODY_BYTES or (chunked and len(request.get_data()) >= MAX_BODY_BYTES):
        abort(413, f"request body over {MAX_BODY_BYTES} bytes")
    # RFC 9112 section 3.2: 400 for HTTP/1.1 without Host. gunicorn refuses two
    # Host headers itself but leaves a missing one to the app.
    if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1" and "Host" not in request.headers:
        abort(400, "an HTTP/1.1 request needs a Host header")


def security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
    return response


def http_error(exc: HTTPException):
    response = exc.get_response()  # keeps headers such as Allow on a 405
    response.set_data(jsonify(error=exc.description or exc.name).get_data())
    response.mimetype = "application/json"
    return response


def malformed_body(exc: ParseException):
    # gunicorn parses a chunked body while the app reads it, so its errors surface
    # here as a 500: benoitc/gunicorn#2832; tests/test_upstream.py notices a fix.
    return jsonify(error=f"malformed request body: {str(exc)[:100]}"), 400


def database_unavailable(exc: Exception):
    current_app.logger.warning("database unavailable: %s", describe_failure(exc))
    return jsonify(error=f"database unavailable: {describe_failure(exc)}"), 503


def register(app: Flask) -> None:
    app.before_request(check_request)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ParseException, malformed_body)
    for failure in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(failure, database_unavailable)
