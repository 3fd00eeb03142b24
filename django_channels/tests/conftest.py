import importlib
from types import SimpleNamespace

import pytest


@pytest.fixture(autouse=True)
def embedded_defaults(settings):
    """Tests run on the in-memory channel layer and plain static storage, whatever the
    shell exports (manifest storage would need collectstatic first)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.REDIS_URL = ""


@pytest.fixture
def seeded(transactional_db):
    """The contract data, as the migration seeds it.

    The contract's database views close their connection as they return (back to the
    pool), which a test wrapped in one transaction would not survive: so real commits
    (transactional_db), whose flush after each test empties the tables, hence re-seed.
    """
    # Imported here, not at module level: pytest may load this conftest from outside the
    # app's virtualenv (the monorepo's shared suite), where Django is not installed.
    from django.apps import apps

    seed_migration = importlib.import_module("contract.migrations.0002_seed")
    seed_migration.seed(apps, SimpleNamespace(connection=SimpleNamespace(alias="default")))
