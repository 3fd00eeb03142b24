"""Fast tests on the embedded defaults: SQLite files, closing jobs in-process."""

import shutil

import pytest
from flask_migrate import upgrade
from votr import create_app

PLATFORM_VARIABLES = [
    "DYNO",
    "CI",
    "SECRET_KEY",
    "DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "WEB_CONCURRENCY",
    "DATABASE_CONNECTION_LIMIT",
    "PORT",
    "ALLOWED_HOSTS",
]


@pytest.fixture(autouse=True)
def development_environment(monkeypatch):
    for name in PLATFORM_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Run the real migrations once; each test gets a copy of the result."""
    path = tmp_path_factory.mktemp("template") / "votr.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade()
    return path


@pytest.fixture
def app(migrated_database, tmp_path):
    path = tmp_path / "votr.sqlite3"
    shutil.copy(migrated_database, path)
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


@pytest.fixture
def client(app):
    return app.test_client()
