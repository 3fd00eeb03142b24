"""TechEmpower's Django app (frameworks/Python/django/hello): its settings, its sync views and
ORM query, no middleware, served by Django's stock ASGI handler under the app's Daphne.

Two differences, both forced: the standard library's json instead of ujson (not in the
app's venv), and the database through Django's psycopg pool with CONN_MAX_AGE 0 instead of
TechEmpower's CONN_MAX_AGE 30, because under ASGI every request runs in a thread of its own
and persistent connections would pile up past this plan's 20 (Django's "Databases" docs:
disable persistent connections in async mode and use the backend's pooling).
"""

import json
import os
import random
from functools import partial

import dj_database_url
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

database = dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)
database["OPTIONS"] = {"pool": {"min_size": 0, "max_size": 18}}  # the app's budget: 20 - 2

settings.configure(
    DEBUG=False,
    SECRET_KEY="stripped",  # noqa: S106 - never signs anything
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=(),
    INSTALLED_APPS=("django.contrib.contenttypes", "django.contrib.sessions", "world"),
    DATABASES={"default": database},
    USE_TZ=False,
    LOGGING={"version": 1, "disable_existing_loggers": True, "handlers": {}, "loggers": {}},
)

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()

from world.models import World  # noqa: E402 - after the apps are loaded

_random_int = partial(random.randint, 1, 10000)


def plaintext(request):
    return HttpResponse("Hello, World!", content_type="text/plain")


def json_(request):
    return HttpResponse(json.dumps({"message": "Hello, World!"}), content_type="application/json")


def db(request):
    r = _random_int()
    world = json.dumps({"id": r, "randomNumber": World.objects.get(id=r).randomnumber})
    return HttpResponse(world, content_type="application/json")


urlpatterns = [path("plaintext", plaintext), path("json", json_), path("db", db)]
