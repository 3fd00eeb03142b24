"""The web process: `web: python web.py` in the Procfile, the article's shape.

Sanic reads neither PORT nor WEB_CONCURRENCY itself, so they are passed to app.run()
here. The app is built at module level: Sanic's worker processes look the app up by
name, so an app created inside `if __name__ == "__main__"` would not exist in them.
"""

from __future__ import annotations

import sys

from sanic import Sanic
from starter import create_app
from starter.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One line, no traceback: this is what `heroku logs` shows when the dyno crashes.
    sys.exit(f"error: {exc}")


if __name__ == "__main__":
    # Fork the workers from this process, which has already imported everything,
    # instead of Sanic's default "spawn" (a fresh interpreter per worker that imports
    # it all again while requests wait on the bound port).
    Sanic.start_method = "fork"
    settings = app.ctx.settings
    app.run(
        # "::" rather than the article's "0.0.0.0": Fir dynos route over IPv6, and with
        # Linux's default net.ipv6.bindv6only=0 the same socket takes IPv4 as well.
        host="::",
        port=settings.port,
        # One process per WEB_CONCURRENCY (Heroku sets it from the dyno size), each with
        # its own pool; clamped by the connection budget (starter/config.py).
        workers=settings.workers,
        # Only an explicit yes: the article's bool(os.environ.get("DEBUG", "")) made
        # DEBUG=False mean debug on.
        debug=settings.debug,
        # Room for bursts while every worker is busy (Sanic's default is 100).
        backlog=1024,
        # app.run() would force the startup summary on; leave it to SANIC_MOTD.
        motd=app.config.MOTD,
    )
