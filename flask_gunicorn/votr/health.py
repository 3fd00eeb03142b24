"""GET /health: each dependency checked in parallel, the answer bounded at 1.5 s."""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, current_app, jsonify

from . import redis_link
from .database import check_database, db
from .errors import describe_failure

bp = Blueprint("health", __name__)

# The whole answer within the contract's 2 s, whatever hangs.
HEALTH_DEADLINE = 1.5
HEALTHY = ("ok", "not configured")

_checkers: dict[int, ThreadPoolExecutor] = {}


def checker() -> ThreadPoolExecutor:
    """One small executor per process (gunicorn forks after the app is loaded)."""
    pid = os.getpid()
    if pid not in _checkers:
        _checkers[pid] = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
    return _checkers[pid]


@bp.get("/health")
def health():
    redis_url = current_app.config["REDIS_URL"]
    pending = {
        "database": checker().submit(check_database, db.engine),
        "redis": checker().submit(redis_link.ping, redis_url) if redis_url else None,
    }
    deadline = time.monotonic() + HEALTH_DEADLINE
    checks = {}
    for name, future in pending.items():
        if future is None:
            checks[name] = "not configured"
            continue
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            checks[name] = f"no answer within {HEALTH_DEADLINE:g} s"
        except Exception as exc:  # any failure is reported, not raised
            checks[name] = describe_failure(exc)
        else:
            checks[name] = "ok"
    healthy = all(check in HEALTHY for check in checks.values())
    return jsonify(status="ok" if healthy else "error", checks=checks), 200 if healthy else 503
