"""The Celery entry point: `celery --app worker.celery_app worker`.

The worker holds WORKER_CONCURRENCY database connections (one per job thread),
counted as reserved in the connection budget of config.py.
"""

from votr import create_app
from votr.config import WORKER_CONCURRENCY

flask_app = create_app({"DB_POOL_SIZE": WORKER_CONCURRENCY})
celery_app = flask_app.extensions["celery"]
