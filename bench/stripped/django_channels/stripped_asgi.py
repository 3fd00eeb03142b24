"""Django at its barest under Daphne: no apps, no middleware, async views, raw cursor."""

import os
import random

import dj_database_url
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import path

# One persistent connection per thread of asgiref's executor (a handful, within budget).
database = dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=None)


async def plaintext(request):
    return HttpResponse(b"Hello, World!", content_type="text/plain")


async def json_(request):
    return JsonResponse({"message": "Hello, World!"})


def _fetch():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, randomnumber FROM world WHERE id = %s", [random.randint(1, 10000)])  # noqa: S311 - a benchmark id, not a secret
        return cursor.fetchone()


async def db(request):
    row = await sync_to_async(_fetch, thread_sensitive=False)()
    return JsonResponse({"id": row[0], "randomNumber": row[1]})


settings.configure(
    DEBUG=False,
    SECRET_KEY="stripped",  # noqa: S106 - never signs anything
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={"default": database},
    USE_TZ=True,
    LOGGING_CONFIG=None,
)
urlpatterns = [path("plaintext", plaintext), path("json", json_), path("db", db)]

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
