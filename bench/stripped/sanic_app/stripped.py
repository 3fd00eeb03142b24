"""Sanic at its barest: access log off, one asyncpg pool per worker, same fork start."""

import os
import random

import asyncpg
from sanic import Sanic
from sanic.response import json, text

app = Sanic("stripped")
LIMIT = int(os.environ.get("DATABASE_CONNECTION_LIMIT", "20"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))


@app.before_server_start
async def open_pool(app, _):
    app.ctx.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=max(1, (LIMIT - 2) // WORKERS))


@app.after_server_stop
async def close_pool(app, _):
    await app.ctx.pool.close()


@app.get("/plaintext")
async def plaintext(request):
    return text("Hello, World!")


@app.get("/json")
async def json_(request):
    return json({"message": "Hello, World!"})


@app.get("/db")
async def db(request):
    row = await app.ctx.pool.fetchrow(
        "SELECT id, randomnumber FROM world WHERE id = $1",
        random.randint(1, 10000),  # noqa: S311 - a benchmark id, not a secret
    )
    return json({"id": row[0], "randomNumber": row[1]})


if __name__ == "__main__":
    Sanic.start_method = "fork"
    app.run(
        host="::",
        port=int(os.environ["PORT"]),
        workers=WORKERS,
        access_log=False,
        debug=False,
        auto_reload=False,
        single_process=False,
    )
