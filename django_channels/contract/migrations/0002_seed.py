"""Seed the contract's data: world ids 1..10000 and the twelve shared fortunes.

Runs once (Django records applied migrations); ignore_conflicts additionally leaves any
row that already exists untouched, so nothing is ever duplicated or reset.
"""

import random

from django.db import migrations

WORLD_ROWS = 10000

FORTUNES = [
    (1, "A deploy on Friday afternoon is a story you tell on Monday."),
    (2, "The release phase runs once; the web process runs forever."),
    (3, '<script>alert("escape me")</script>'),
    (4, "Twelve-factor apps keep config in the environment, not in the repository."),
    (5, "Connection pools are like parking lots: the plan decides how many spaces there are."),
    (6, "A SIGTERM is a request, a SIGKILL is a verdict."),
    (7, "Les journaux vont sur la sortie standard, même en été."),
    (8, "日本語のテキストもそのまま表示されるべきです。"),
    (9, "Keep-alive outlasts the router, or the router closes first."),
    (10, "Never trust the leftmost X-Forwarded-For."),
    (11, "Migrations belong to release, not to web."),
    (12, 'An ampersand & a quote " walk into a <table>.'),
]


def seed(apps, schema_editor):
    World = apps.get_model("contract", "World")
    Fortune = apps.get_model("contract", "Fortune")
    db = schema_editor.connection.alias
    World.objects.using(db).bulk_create(
        (World(id=i, randomnumber=random.randint(1, WORLD_ROWS)) for i in range(1, WORLD_ROWS + 1)),  # noqa: S311
        batch_size=1000,
        ignore_conflicts=True,
    )
    Fortune.objects.using(db).bulk_create([Fortune(id=i, message=message) for i, message in FORTUNES], ignore_conflicts=True)


def unseed(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("contract", "World").objects.using(db).all().delete()
    apps.get_model("contract", "Fortune").objects.using(db).all().delete()


class Migration(migrations.Migration):
    dependencies = [("contract", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
