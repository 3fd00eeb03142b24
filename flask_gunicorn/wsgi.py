"""The WSGI entry point: `gunicorn wsgi:application` (and `flask --app wsgi`)."""

from votr import create_app

application = create_app()
