"""GET /health: the database, then Redis, each bounded by its client's own timeouts:
both hung, 2 s (libpq's connect_timeout) + 2 x 0.5 s = 3 s, inside the contract's 5 s."""

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from .closing import redis_tls_options
from .errors import describe_failure
from .models import db

bp = Blueprint("health", __name__)


def check_database() -> None:
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "postgresql":  # a database that accepts but is stuck
            connection.execute(text("SET LOCAL statement_timeout = 1000"))
        connection.execute(text("SELECT 1"))


def check_redis(url: str) -> None:
    with redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5, **redis_tls_options(url)) as client:
        client.ping()


def outcome(check, *args) -> str:
    try:
        check(*args)
    except Exception as exc:  # any failure is reported, not raised
        return describe_failure(exc)
    return "ok"


@bp.get("/health")
def health():
    redis_url = current_app.config["REDIS_URL"]
    checks = {
        "database": outcome(check_database),
        "redis": outcome(check_redis, redis_url) if redis_url else "not configured",
    }
    healthy = all(check in ("ok", "not configured") for check in checks.values())
    return jsonify(status="ok" if healthy else "error", checks=checks), 200 if healthy else 503
