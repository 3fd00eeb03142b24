"""The web process: `web: python web.py` in the Procfile.

Sanic does not read PORT or WEB_CONCURRENCY itself, so they are passed to app.run()
here. The app is built at module level: Sanic's worker processes look the app up by
name (and with Sanic's default "spawn" start method they import this module afresh),
so an app created inside `if __name__ == "__main__"` would not exist in them.
"""

from __future__ import annotations

import socket
import sys

from sanic import Sanic
from starter import create_app
from starter.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # One line, no traceback: this is what `heroku logs` shows when the dyno crashes.
    sys.exit(f"error: {exc}")


def dual_stack_socket(port: int) -> socket.socket:
    """Listen on [::]:PORT for IPv6 and, through IPv4-mapped addresses, IPv4 too.

    Heroku's Fir dynos reach the app over IPv6, Cedar and local tools over IPv4. The
    article's host='0.0.0.0' is IPv4 only. Turning IPV6_V6ONLY off explicitly keeps
    this dual-stack even where the kernel default (net.ipv6.bindv6only) says otherwise.
    """
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    # Room for bursts while every worker is busy (Sanic's default is 100).
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


if __name__ == "__main__":
    # Fork the workers from this process, which has already imported everything,
    # instead of Sanic's default "spawn" (a fresh interpreter per worker that imports
    # it all again): the port is bound before the workers start, so requests that
    # arrive meanwhile wait in the backlog for a second or more on a busy dyno.
    Sanic.start_method = "fork"
    settings = app.ctx.settings
    app.run(
        sock=dual_stack_socket(settings.port),
        # One process per WEB_CONCURRENCY (Heroku sets it from the dyno's memory); each
        # worker has its own pool of settings.pool_max_size connections.
        workers=settings.web_concurrency,
        # DEBUG must say yes explicitly ("1", "true", "yes", "on"): the article's
        # bool(os.environ.get("DEBUG", "")) made DEBUG=False mean debug on.
        debug=settings.debug,
        # Reloading is for a developer's editor loop, never a dyno.
        auto_reload=False,
        # app.run() would force the startup summary on; leave it to SANIC_MOTD.
        motd=app.config.MOTD,
    )
