"""Flask at its barest: no extensions, no middleware, one psycopg connection per thread."""

import os
import random
import threading

import psycopg
from flask import Flask

app = Flask(__name__)
_local = threading.local()
_url = os.environ.get("DATABASE_URL", "").replace("postgres://", "postgresql://", 1)


def connection() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(_url, autocommit=True)
    return conn


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
def json_():
    return {"message": "Hello, World!"}


@app.get("/db")
def db():
    row = connection().execute(
        "SELECT id, randomnumber FROM world WHERE id = %s", [random.randint(1, 10000)]  # noqa: S311 - a benchmark id, not a secret
    ).fetchone()
    return {"id": row[0], "randomNumber": row[1]}
