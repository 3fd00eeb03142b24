"""Two gaps in Sanic 25.12's HTTP/1 parser, closed through its public `request_class`.

Delete this module (and `request_class=` in create_app) when upstream fixes both;
tests/test_strict_http.py fails as soon as either Sanic behaviour changes.

1. A request target httptools cannot parse (`CONNECT host:443`, a NUL, DEL or control
   byte in the path) gets no answer and ~40 lines of traceback: Sanic's error path
   builds a placeholder request (method "NONE") from the same target, which fails
   again. https://github.com/sanic-org/sanic/issues/2735
   Here the placeholder falls back to "/", so the client gets a 400 and the log stays
   quiet.
2. Sanic keeps a header named "transfer-encoding " (`Transfer-Encoding : chunked`) as
   an unknown header and frames the body by Content-Length, which a proxy that reads
   the chunked coding frames differently: request smuggling. RFC 9112 section 5.1
   requires a 400 for whitespace before the colon, and section 3.2 a 400 for an
   HTTP/1.1 request without exactly one Host. Sanic's header parser (sanic/http/http1.py,
   `http1_request_header`) checks neither; no upstream issue found yet.
   Raised while the request is built, the 400 also closes the connection, so nothing
   after the bad header is read as another request.
"""

from __future__ import annotations

import re

from sanic import Request
from sanic.exceptions import BadRequest, BadURL

# RFC 9110 section 5.1: a field name is a token (Sanic has lowercased it already).
FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
# The method Sanic gives the placeholder request of its error path.
PLACEHOLDER_METHOD = "NONE"


class StrictRequest(Request):
    def __init__(self, url_bytes: bytes, *args, **kwargs) -> None:
        if kwargs.get("method") == PLACEHOLDER_METHOD:
            try:
                super().__init__(url_bytes, *args, **kwargs)
            except BadURL:
                super().__init__(b"/", *args, **kwargs)
            return
        super().__init__(url_bytes, *args, **kwargs)
        if not all(FIELD_NAME.fullmatch(name) for name in self.headers):
            raise BadRequest("malformed header name")
        hosts = len(self.headers.getall("host", []))
        if hosts > 1 or (hosts == 0 and self.version == "1.1"):
            raise BadRequest("HTTP/1.1 needs exactly one Host header")
