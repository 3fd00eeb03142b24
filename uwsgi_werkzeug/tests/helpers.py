"""Shared by the test modules. Deliberately not a conftest.py: the monorepo's suite runs
`pytest tests --app uwsgi_werkzeug`, and pytest loads conftest files under any argument
that names a folder, from the suite's venv, which has no Werkzeug."""

from webapp.config import load_config


def make_config(**environ):
    """A Config from an explicit environment, never the caller's shell."""
    return load_config({"SECRET_KEY": "test-secret", **environ})
