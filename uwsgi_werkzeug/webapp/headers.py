"""The outermost WSGI layer: what every response needs, whichever app produced it.

uWSGI's http-socket passes the application's headers through as they are: it adds no
Server and no Date header, and it refuses an oversized body by dropping the connection
(limit-post) rather than answering. So the body limit and those headers live here, in
front of both the contract app and Werkzeug's test application.
"""

import json
import logging

from werkzeug.datastructures import Headers
from werkzeug.http import http_date

log = logging.getLogger("webapp")

SERVER_NAME = "uWSGI"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _json_error(status: str, message: str):
    body = json.dumps({"error": message}).encode()
    return status, [("Content-Type", "application/json")], body


class HeadersMiddleware:
    def __init__(self, app, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _refusal(self, environ):
        """A 4xx for a declared body we will not take, before any routing."""
        declared = environ.get("CONTENT_LENGTH", "").strip()
        if not declared:
            return None
        if not declared.isdigit():
            return _json_error("400 Bad Request", "Content-Length must be a non-negative integer")
        if int(declared) > self.max_body_bytes:
            return _json_error(
                "413 Content Too Large",
                f"request body larger than {self.max_body_bytes} bytes",
            )
        return None

    def _call_app(self, environ):
        captured = {}
        chunks = []

        def start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return chunks.append

        iterable = self.app(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return captured["status"], captured["headers"], b"".join(chunks)

    def __call__(self, environ, start_response):
        refusal = self._refusal(environ)
        if refusal is not None:
            status, header_list, body = refusal
        else:
            try:
                status, header_list, body = self._call_app(environ)
            except Exception:
                log.exception("unhandled error on %s %s", environ.get("REQUEST_METHOD"),
                              environ.get("PATH_INFO"))
                status, header_list, body = _json_error(
                    "500 Internal Server Error", "internal server error"
                )
        headers = Headers(header_list)
        # Buffered above, so the length is always known (HEAD keeps the length of the
        # body it would have had).
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        headers.setdefault("Server", SERVER_NAME)
        headers.setdefault("Date", http_date())
        for name, value in SECURITY_HEADERS.items():
            headers.setdefault(name, value)
        start_response(status, headers.to_wsgi_list())
        return [body]
