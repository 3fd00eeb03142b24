"""The web process, `web: python web.py`, in the article's shape: Sanic reads neither PORT
nor WEB_CONCURRENCY. The app is built at module level: Sanic's workers look it up by name."""

import sys

from sanic import Sanic
from starter import create_app
from starter.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"error: {exc}")  # one line, no traceback, in `heroku logs`

if __name__ == "__main__":
    # Fork the workers from this process, which has imported everything already, instead
    # of spawning fresh interpreters that import it all again while requests wait.
    Sanic.start_method = "fork"
    settings = app.ctx.settings
    if settings.workers < settings.web_concurrency:
        print(f"WEB_CONCURRENCY={settings.web_concurrency} does not fit DATABASE_CONNECTION_LIMIT: {settings.workers} workers")
    app.run(
        host="::",  # Fir dynos route over IPv6; with Linux's bindv6only=0, IPv4 too
        port=settings.port,
        workers=settings.workers,  # WEB_CONCURRENCY, within the connection budget
        debug=settings.debug,  # only an explicit DEBUG=1/true/yes/on
        backlog=1024,  # room for bursts while every worker is busy (Sanic's default: 100)
        motd=app.config.MOTD,  # app.run() would force the startup summary on
    )
