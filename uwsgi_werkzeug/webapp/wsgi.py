"""The WSGI callable uWSGI loads in each worker (uwsgi.ini: module = webapp.wsgi:application)."""

import logging
import sys

from webapp import create_app

# Application log lines go to stdout with uWSGI's own, where Heroku's log router reads them.
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

application = create_app()
