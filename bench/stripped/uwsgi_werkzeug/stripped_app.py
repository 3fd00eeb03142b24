"""Werkzeug at its barest: Request/Response only, one psycopg pool per worker."""

import json
import os
import random

from psycopg_pool import ConnectionPool
from werkzeug.wrappers import Request, Response

pool = ConnectionPool(
    os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1),
    min_size=1,
    max_size=4,
    kwargs={"autocommit": True},
    open=True,
)
HELLO = json.dumps({"message": "Hello, World!"})


@Request.application
def application(request: Request) -> Response:
    if request.path == "/plaintext":
        return Response("Hello, World!", content_type="text/plain")
    if request.path == "/json":
        return Response(HELLO, content_type="application/json")
    if request.path == "/db":
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT id, randomnumber FROM world WHERE id = %s",
                [random.randint(1, 10000)],  # noqa: S311 - a benchmark id, not a secret
            ).fetchone()
        return Response(json.dumps({"id": row[0], "randomNumber": row[1]}), content_type="application/json")
    return Response("not found", status=404, content_type="text/plain")
