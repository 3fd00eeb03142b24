"""Fixtures: an app built from explicit Settings (no environment needed), and a scratch
PostgreSQL database for the tests that need one, created and dropped here."""

from __future__ import annotations

import asyncio
import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from sanic import Sanic
from starter import create_app
from starter.config import Settings
from migrate import migrate

# Several apps with the same name are built in one test run.
Sanic.test_mode = True

# A server where the tests may CREATE DATABASE; the local default matches the repo's dev setup.
ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def app():
    return create_app(Settings())


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
        pytest.skip(f"no PostgreSQL for database tests at TEST_DATABASE_ADMIN_URL ({exc})")
    url = _with_database(ADMIN_URL, name)
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def db_app(database_url):
    return create_app(Settings(database_url=database_url))


def query(url: str, sql: str, *args):
    async def run():
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())
