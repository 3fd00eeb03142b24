"""The client behind exactly one trusted proxy: Heroku's router."""

import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_one_proxy(app: Flask) -> None:
    # The router appends the address it saw to X-Forwarded-For; anything left of
    # that is whatever the client wrote. x_for=1 takes the rightmost entry only,
    # x_proto=1 the rightmost X-Forwarded-Proto.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)


def client_address() -> str:
    """request.remote_addr, with IPv4 shown as IPv4 on the dual-stack socket."""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address  # a forwarded value that is not an address: report it as sent
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)
