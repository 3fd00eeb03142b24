"""What the HTTP edge needs that neither Daphne nor Django provides, in front of Django.

- 413 for a declared body over the limit, on every route. Django enforces
  DATA_UPLOAD_MAX_MEMORY_SIZE only when a view reads the body, and its ASGI handler
  spools the whole body before any middleware runs; checking Content-Length here answers
  before Django touches the body.
- A Date header on every response (RFC 9110 asks origin servers with a clock to send
  one); Daphne adds only Server.
"""

import json
from email.utils import formatdate

from django.conf import settings


class HttpEdge:
    def __init__(self, app, body_limit=None):
        self.app = app
        self.body_limit = settings.REQUEST_BODY_LIMIT if body_limit is None else body_limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_date(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"date" for name, _ in headers):
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        declared = dict(scope["headers"]).get(b"content-length", b"").strip()
        if declared and not declared.isdigit():
            return await self.reject(send_with_date, 400, "invalid Content-Length")
        if declared and int(declared) > self.body_limit:
            return await self.reject(
                send_with_date, 413, f"request body larger than {self.body_limit} bytes"
            )
        return await self.app(scope, receive, send_with_date)

    @staticmethod
    async def reject(send, status, message):
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The body the client is still sending is not read: end the connection.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
