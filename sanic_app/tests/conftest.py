"""Fixtures: an app built from explicit Settings (no environment needed), and a scratch
PostgreSQL database for the tests that need one, created and dropped here."""

from __future__ import annotations

import asyncio
import os
import secrets
import warnings
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from migrate import migrate
from sanic import Sanic
from starter import create_app
from starter.config import Settings

# Several apps with the same name are built in one test run.
Sanic.test_mode = True

# A server where the tests may CREATE DATABASE: DATABASE_ADMIN_URL (the repository's Makefile
# exports it; app.json's Heroku CI test script sets it to the in-dyno database), else the local
# default of the repo's dev setup.
ADMIN_URL = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def make_app(pytestconfig):
    """create_app(settings) for a test.

    Building a Sanic config puts Sanic's own DEPRECATION_FILTER ("once", for warnings
    raised from sanic.*) in front of pytest.ini's filters, which would turn Sanic's
    deprecation notices about our code into mere messages; put pytest.ini's back in
    front, in its order (the last line listed wins), for the rest of this test."""

    def build(settings: Settings) -> Sanic:
        app = create_app(settings)
        for line in pytestconfig.getini("filterwarnings"):
            action, message, category = (line.split(":") + ["", ""])[:3]
            warnings.filterwarnings(action, message=message, category=DeprecationWarning if category else Warning)
        return app

    return build


@pytest.fixture
def app(make_app):
    return make_app(Settings())


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def database_url():
    """A freshly migrated scratch database, dropped after the session."""
    name = f"scratch_sanic_app_test_{secrets.token_hex(4)}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(ADMIN_URL, timeout=3)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        if "DATABASE_ADMIN_URL" in os.environ:  # a database was promised: its absence is a failure
            pytest.fail(f"DATABASE_ADMIN_URL is set but CREATE DATABASE failed there ({exc})")
        pytest.skip(f"no PostgreSQL at {ADMIN_URL} and DATABASE_ADMIN_URL unset ({exc})")
    url = _with_database(ADMIN_URL, name)
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_app(make_app, database_url):
    return make_app(Settings(database_url=database_url))


def query(url: str, sql: str, *args):
    async def run():
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())
