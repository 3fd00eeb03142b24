"""The common contract's routes. Those that touch no database are async views, run on Daphne's
event loop; the ORM routes are sync views, which Django runs in a thread of their own (under
ASGI the ORM is sync; its async methods only hop to such a thread per query), each request's
connection taken from Django's psycopg pool and handed back when the request finishes."""

import functools
import logging
import random

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


def method_not_allowed(request):
    """GET and HEAD only: 405 with Allow and a message, else None."""
    if request.method in ("GET", "HEAD"):
        return None
    return JsonResponse({"error": f"method {request.method} not allowed"}, status=405, headers={"Allow": "GET, HEAD"})


def contract_route(view):
    """An async view answering GET and HEAD. csrf_exempt: these views change nothing, and a
    POST should meet the 405, not a CSRF 403."""

    @csrf_exempt
    @functools.wraps(view)
    async def wrapper(request, *args, **kwargs):
        return method_not_allowed(request) or await view(request, *args, **kwargs)

    return wrapper


def database_route(view):
    """A sync view answering GET and HEAD, 503 when the database fails: refused, reset, hung,
    or no pooled connection free within the pool's timeout (psycopg_pool's PoolTimeout)."""

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if refusal := method_not_allowed(request):
            return refusal
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as exc:
            logger.warning("database unavailable: %s", short_reason(exc))
            return JsonResponse({"error": f"database unavailable: {short_reason(exc)}"}, status=503)

    return wrapper


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
async def home(request):
    return render(request, "contract/home.html")


@contract_route
async def json_hello(request):
    return JsonResponse({"message": "Hello, World!"})


@contract_route
async def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


@contract_route
async def whoami(request):
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


@database_route
def health(request):
    checks = {"database": check_database(), "redis": check_redis()}
    healthy = all(value in ("ok", "not configured") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
