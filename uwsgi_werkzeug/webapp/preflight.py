"""Configuration check run by the uWSGI master before it forks any worker.

uwsgi.ini imports this with `shared-import`, which runs once in the master. A bad
environment ends uWSGI right there with one line on stderr and exit status 1; without it
every lazily loaded worker would fail on its own and print a traceback first.
"""

import sys

from webapp.config import ConfigError, load_config

try:
    load_config()
except ConfigError as error:
    # SystemExit raised while uWSGI imports a module ends the whole process.
    sys.exit(f"uwsgi_werkzeug: configuration error: {error}")
