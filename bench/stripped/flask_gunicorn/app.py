"""TechEmpower's Flask test (frameworks/Python/flask/app.py): the ORM through Flask-SQLAlchemy's
session for /db, `jsonify` for /json, `make_response` for /plaintext; no middleware, no
checks, no headers of its own.

BENCH_FEATURE turns on one of flask_gunicorn's production features, with the app's own
code, so the benchmark times what each one costs on top of this (bench/targets.py FEATURES).
"""

import os
import random

from flask import Flask, jsonify, make_response
from votr import config, errors, models

FEATURE = os.environ.get("BENCH_FEATURE", "")
settings = config.load()
url = config.sqlalchemy_url(os.environ["DATABASE_URL"])
pool_size = settings.connections_per_web_process  # one per gunicorn thread, as in the app

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = url
# Flask-SQLAlchemy's default pool (5 + 10 overflow per worker) would pass the role's 20
# connections at 2 workers: sized like the app's, with nothing else of its options.
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": pool_size, "max_overflow": 0}
if FEATURE == "pool pre-ping":
    app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] = True
if FEATURE == "engine options":
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = models.engine_options(url, pool_size)
if FEATURE == "cookie session":  # a SECRET_KEY makes Flask open its signed session on every request
    app.secret_key = settings.secret_key
if FEATURE == "Host check":  # on wherever ALLOWED_HOSTS is set, or off Heroku
    app.config["TRUSTED_HOSTS"] = settings.allowed_hosts or config.LOCAL_HOSTS
if FEATURE == "security headers":
    app.after_request(errors.security_headers)
if FEATURE == "request checks":
    app.before_request(errors.check_request)
if FEATURE == "error handling":
    errors.register(app)  # the request checks, the security headers and the error handlers
models.db.init_app(app)


@app.get("/json")
def hello():
    return jsonify(message="Hello, World!")


@app.get("/db")
def get_random_world_single():
    world = models.db.session.get(models.World, random.randint(1, 10000))  # noqa: S311 - a benchmark id
    return jsonify(id=world.id, randomNumber=world.randomnumber)


@app.get("/plaintext")
def plaintext():
    response = make_response(b"Hello, World!")
    response.content_type = "text/plain"
    return response
