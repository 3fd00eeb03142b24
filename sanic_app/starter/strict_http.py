"""Two gaps in Sanic 25.12's HTTP/1 parser, closed through its public `request_class`.
Delete this module when tests/test_strict_http.py says Sanic fixed both.

1. An unparsable target (`CONNECT host:443`, a control byte in the path) got no answer and
   ~40 lines of traceback: Sanic's error path rebuilds a placeholder request (method "NONE")
   from it, which fails again (https://github.com/sanic-org/sanic/issues/2735).
2. `Transfer-Encoding : chunked` was kept as an unknown header and the body framed by
   Content-Length (request smuggling); RFC 9112 requires 400 for it and for HTTP/1.1
   without exactly one Host (no upstream issue yet). Raised here, the 400 closes the connection.
"""

import re

from sanic import Request
from sanic.exceptions import BadRequest, BadURL

FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")  # RFC 9110 token, lowercased by Sanic
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
