"""The common contract's routes (tests/contract/CONTRACT.md in the monorepo)."""

import asyncio
import random

import redis.asyncio as redis
from chatsite.db import DatabaseUnavailable, database_route, run_db
from chatsite.http_errors import safe_methods_only
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from contract.models import Fortune, World
from contract.proxy import client_ip, client_scheme

WORLD_ROWS = 10000
MAX_QUERIES = 500
HEALTH_TIMEOUT = 1.0  # each check; they run side by side, so /health answers in ~1 s


def parse_queries(raw):
    """Missing, empty, not an integer or below 1 -> 1; above 500 -> 500. Never an error."""
    text = (raw or "").strip()
    try:
        count = int(text)
    except ValueError:
        # A digit string too long for int() is still "above 500".
        return MAX_QUERIES if text.isdigit() else 1
    return min(max(count, 1), MAX_QUERIES)


def random_id():
    return random.randint(1, WORLD_ROWS)  # noqa: S311 (test data, not a secret)


@safe_methods_only
async def home(request):
    return render(request, "contract/home.html")


@safe_methods_only
async def json_hello(request):
    return JsonResponse({"message": "Hello, World!"})


@safe_methods_only
async def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


@safe_methods_only
async def whoami(request):
    return JsonResponse({"ip": client_ip(request), "scheme": client_scheme(request)})


def fetch_worlds(count):
    return [World.objects.get(id=random_id()).as_json() for _ in range(count)]


@safe_methods_only
@database_route
async def single_query(request):
    rows = await run_db(fetch_worlds, 1)
    return JsonResponse(rows[0])


@safe_methods_only
@database_route
async def multiple_queries(request):
    rows = await run_db(fetch_worlds, parse_queries(request.GET.get("queries")))
    return JsonResponse(rows, safe=False)


def update_worlds(count):
    ids = [random_id() for _ in range(count)]
    with transaction.atomic():
        stored = {}
        for world_id in ids:
            World.objects.get(id=world_id)  # each row read by its own query
            stored[world_id] = random.randint(1, WORLD_ROWS)  # noqa: S311 (a repeated id: last wins)
        # Ascending id order: two requests lock shared rows in the same order, so they
        # wait for each other instead of deadlocking. One executemany, which psycopg sends
        # as a pipeline: the UPDATEs still run one by one in this order, but cost one
        # round trip instead of one each (each round trip also means waiting to get the
        # GIL back from the other threads; 20 of them made this route the slowest).
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE world SET randomnumber = %s WHERE id = %s",
                [(stored[world_id], world_id) for world_id in sorted(stored)],
            )
    return [{"id": world_id, "randomNumber": stored[world_id]} for world_id in ids]


@safe_methods_only
@database_route
async def updates(request):
    rows = await run_db(update_worlds, parse_queries(request.GET.get("queries")))
    return JsonResponse(rows, safe=False)


def all_fortunes():
    return list(Fortune.objects.all())


@safe_methods_only
@database_route
async def fortunes(request):
    rows = await run_db(all_fortunes)
    rows.append(Fortune(id=0, message="Additional fortune added at request time."))
    rows.sort(key=lambda fortune: fortune.message)
    return render(request, "contract/fortunes.html", {"fortunes": rows})


def select_one():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def check_database():
    try:
        await run_db(select_one, timeout=HEALTH_TIMEOUT)
    except DatabaseUnavailable as exc:
        return f"database unavailable: {exc}"
    return "ok"


async def check_redis():
    if not settings.REDIS_URL:
        return "not configured"
    options = {"socket_connect_timeout": HEALTH_TIMEOUT, "socket_timeout": HEALTH_TIMEOUT}
    if settings.REDIS_URL.startswith("rediss://"):
        options["ssl_cert_reqs"] = None  # same rule as the channel layer (settings.py)
    client = redis.from_url(settings.REDIS_URL, **options)
    try:
        await asyncio.wait_for(client.ping(), HEALTH_TIMEOUT)
    except (TimeoutError, redis.RedisError, OSError) as exc:
        return f"redis unavailable: {str(exc).strip() or type(exc).__name__}"
    finally:
        await client.aclose()
    return "ok"


@safe_methods_only
async def health(request):
    database, redis_check = await asyncio.gather(check_database(), check_redis())
    healthy = database in ("ok", "not configured") and redis_check in ("ok", "not configured")
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": {"database": database, "redis": redis_check}},
        status=200 if healthy else 503,
    )
