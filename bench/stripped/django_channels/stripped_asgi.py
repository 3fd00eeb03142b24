"""TechEmpower's Django app (frameworks/Python/django/hello): its settings, its sync views and
ORM query, no middleware, served by Django's stock ASGI handler under the app's Daphne.

Two differences, both forced: the standard library's json instead of ujson (not in the
app's venv), and the database through Django's psycopg pool with CONN_MAX_AGE 0 instead of
TechEmpower's CONN_MAX_AGE 30, because under ASGI every request runs in a thread of its own
and persistent connections would pile up past this plan's 20 (Django's "Databases" docs:
disable persistent connections in async mode and use the backend's pooling).

BENCH_FEATURE turns on one of django_channels' production features, with the app's own code
and settings, so the benchmark times what each one costs on top of this (bench/targets.py
FEATURES).
"""

import json
import os
import random
import sys
from functools import partial
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

APP = Path(__file__).resolve().parents[3] / "django_channels"
sys.path.append(str(APP))  # chatsite and contract, for the features below (after ours: world)
FEATURE = os.environ.get("BENCH_FEATURE", "")
# Each middleware alone, by its place in the app's settings.MIDDLEWARE.
MIDDLEWARE_FEATURES = {
    "Date header": "chatsite.middleware.date_header",
    "proxy header": "contract.proxy.rightmost_forwarded_proto",
    "SecurityMiddleware": "django.middleware.security.SecurityMiddleware",
    "CommonMiddleware": "django.middleware.common.CommonMiddleware",
    "CsrfViewMiddleware": "django.middleware.csrf.CsrfViewMiddleware",
    "XFrameOptionsMiddleware": "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "WhiteNoise": "whitenoise.middleware.WhiteNoiseMiddleware",
}
if FEATURE in MIDDLEWARE_FEATURES:
    middleware = (MIDDLEWARE_FEATURES[FEATURE],)
elif FEATURE == "the app's middleware":  # the whole chain, in the app's order
    from chatsite.settings import MIDDLEWARE as middleware
else:
    middleware = ()
# WhiteNoise reads the static files settings; the app's views import its models.
extra_apps = {
    "WhiteNoise": ("django.contrib.staticfiles",),
    "the app's middleware": ("django.contrib.staticfiles",),
    "the app's views": ("contract",),
}

database = dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)
database["OPTIONS"] = {"pool": {"min_size": 0, "max_size": 18}}  # the app's budget: 20 - 2

settings.configure(
    DEBUG=False,
    SECRET_KEY="stripped",  # noqa: S106 - never signs anything
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=middleware,
    INSTALLED_APPS=("django.contrib.contenttypes", "django.contrib.sessions", "world", *extra_apps.get(FEATURE, ())),
    STATIC_URL="static/",
    STATIC_ROOT=APP / "staticfiles",
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
if FEATURE == "the app's views":  # contract.views: async off the ORM, the ORM's errors as 503
    from contract import views  # noqa: E402

    urlpatterns = [path("plaintext", views.plaintext), path("json", views.json_hello), path("db", views.single_query)]
