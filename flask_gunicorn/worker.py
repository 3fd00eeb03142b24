"""The Celery entry point: `celery --app worker.celery_app worker` (config.py counts its connections)."""

from votr import create_app
from votr.config import WORKER_CONNECTIONS

flask_app = create_app({"DB_POOL_SIZE": WORKER_CONNECTIONS})
celery_app = flask_app.extensions["celery"]
