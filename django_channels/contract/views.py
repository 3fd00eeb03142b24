"""The common contract's routes: ordinary Django views, run by Django in its own thread."""

import functools
import logging
import random
import threading

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from contract.models import Fortune, World
from contract.proxy import client_ip

logger = logging.getLogger(__name__)

WORLD_ROWS = 10000
MAX_QUERIES = 500


def short_reason(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


# One slot per pooled connection: a burst queues here, not at the pool, whose 3 s checkout
# timeout then only runs out on a dead database. Without it, on a loaded 2-core machine,
# 4 of 128 concurrent /updates got 503 with a pool of 18, 52 of 128 with a pool of 6.
DATABASE_SLOTS = threading.BoundedSemaphore(settings.DATABASE_POOL_SIZE)


def contract_route(view, uses_database=False):
    """GET and HEAD only (405 with Allow and a message); 503 when the database fails.
    csrf_exempt: these views change nothing, and a POST should meet the 405, not a CSRF 403."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return JsonResponse({"error": f"method {request.method} not allowed"}, status=405, headers={"Allow": "GET, HEAD"})
        if not uses_database:
            return view(request, *args, **kwargs)
        try:
            with DATABASE_SLOTS:
                try:
                    return view(request, *args, **kwargs)
                finally:
                    connection.close()  # back to the pool now, not after the response is sent
        except DatabaseError as exc:  # refused, reset, hung (psycopg_pool's PoolTimeout)
            logger.warning("database unavailable: %s", short_reason(exc))
            return JsonResponse({"error": f"database unavailable: {short_reason(exc)}"}, status=503)

    return wrapper


database_route = functools.partial(contract_route, uses_database=True)


def parse_queries(raw):
    """Missing, empty, not an integer or below 1 -> 1; above 500 -> 500. Never an error."""
    text = (raw or "").strip()
    try:
        count = int(text)
    except ValueError:
        # A digit string too long for int() (over 4,300 digits) is still "above 500".
        return MAX_QUERIES if text.isdigit() else 1
    return min(max(count, 1), MAX_QUERIES)


def random_id():
    return random.randint(1, WORLD_ROWS)  # noqa: S311 (test data, not a secret)


@contract_route
def home(request):
    return render(request, "contract/home.html")


@contract_route
def json_hello(request):
    return JsonResponse({"message": "Hello, World!"})


@contract_route
def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


@contract_route
def whoami(request):
    return JsonResponse({"ip": client_ip(request), "scheme": request.scheme})


@database_route
def single_query(request):
    return JsonResponse(World.objects.get(id=random_id()).as_json())


@database_route
def multiple_queries(request):
    count = parse_queries(request.GET.get("queries"))
    return JsonResponse([World.objects.get(id=random_id()).as_json() for _ in range(count)], safe=False)


@database_route
def updates(request):
    # Every id, repeats included, gets its own SELECT and UPDATE (TechEmpower's verifier counts
    # them), in ascending order in one transaction: rows lock in one order, so no deadlock.
    ids = sorted(random_id() for _ in range(parse_queries(request.GET.get("queries"))))
    rows = []
    with transaction.atomic(), connection.cursor() as cursor:
        for world_id in ids:
            cursor.execute("SELECT randomnumber FROM world WHERE id = %s", [world_id])
            cursor.fetchone()
            rows.append({"id": world_id, "randomNumber": random_id()})
            cursor.execute("UPDATE world SET randomnumber = %s WHERE id = %s", [rows[-1]["randomNumber"], world_id])
    return JsonResponse(rows, safe=False)


@database_route
def fortunes(request):
    rows = [*Fortune.objects.all(), Fortune(id=0, message="Additional fortune added at request time.")]
    rows.sort(key=lambda fortune: fortune.message)
    return render(request, "contract/fortunes.html", {"fortunes": rows})


def check_database():
    try:
        connection.ensure_connection()  # the pool checks a connection before handing it out
    except DatabaseError as exc:
        return f"database unavailable: {short_reason(exc)}"
    return "ok"


def check_redis():
    if not settings.REDIS_URL:
        return "not configured"
    tls = {"ssl_cert_reqs": None} if settings.REDIS_URL.startswith("rediss://") else {}
    try:
        with redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, **tls) as client:
            client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"redis unavailable: {short_reason(exc)}"
    return "ok"


@contract_route
def health(request):
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
