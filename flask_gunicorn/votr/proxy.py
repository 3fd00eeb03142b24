"""The client behind exactly one trusted proxy: Heroku's router."""

import ipaddress

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_one_proxy(app: Flask) -> None:
    # x_proto=1: the scheme from the rightmost X-Forwarded-Proto, the router's.
    # X-Forwarded-For is read by client_address below, not by ProxyFix: Werkzeug
    # skips empty list entries, so "6.6.6.6," would give the client's own claim.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=1)


def client_address() -> str:
    """The rightmost X-Forwarded-For entry (what the router saw), else the peer; IPv4 as IPv4."""
    rightmost = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
    for candidate in (rightmost, request.remote_addr or ""):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return str(getattr(address, "ipv4_mapped", None) or address)
    return request.remote_addr or ""
