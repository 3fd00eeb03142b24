"""votr: polls on Flask, behind gunicorn, with a Celery worker closing them on time."""

import logging
from collections.abc import Mapping

from flask import Flask
from flask_migrate import Migrate

from . import closing, config, contract, errors, health, pages, polls
from .models import db, engine_options


def create_app(test_config: Mapping | None = None) -> Flask:
    """Build the app from the environment (test_config overrides any setting). Opens no
    connection and starts no thread: safe for gunicorn's preload, release and tests."""
    settings = config.load()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key,
        DEBUG=settings.debug,
        MAX_CONTENT_LENGTH=errors.MAX_BODY_BYTES,
        # Without DATABASE_URL: a SQLite file in the instance folder.
        SQLALCHEMY_DATABASE_URI=settings.database_url or "sqlite:///votr.sqlite3",
        DB_POOL_SIZE=settings.connections_per_web_process,
        REDIS_URL=settings.redis_url,
        # ALLOWED_HOSTS (config.py): a Host outside the list is a 400 before routing, so no
        # redirect or absolute URL is built from a Host the app does not own.
        TRUSTED_HOSTS=settings.allowed_hosts,
    )
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DB_POOL_SIZE"])
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    db.init_app(app)
    Migrate(app, db)
    closing.init_celery(app)
    errors.register(app)
    for blueprint in (pages.bp, contract.bp, health.bp, polls.bp):
        app.register_blueprint(blueprint)
    return app
