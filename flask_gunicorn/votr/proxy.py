"""The client behind exactly one trusted proxy: Heroku's router, which appends what it
saw to X-Forwarded-For and X-Forwarded-Proto. Only the rightmost entry is trustworthy;
an empty or malformed one falls back to what the socket says. (Werkzeug's ProxyFix
skips empty list entries, so "6.6.6.6," would give the client's own claim.)"""

import ipaddress

from flask import request


def rightmost(header: str) -> str:
    return request.headers.get(header, "").rsplit(",", 1)[-1].strip()


def client_address() -> str:
    """The router's X-Forwarded-For entry, else the peer; IPv4 on the dual-stack socket as IPv4."""
    for candidate in (rightmost("X-Forwarded-For"), request.remote_addr or ""):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return str(getattr(address, "ipv4_mapped", None) or address)
    return request.remote_addr or ""


def client_scheme() -> str:
    scheme = rightmost("X-Forwarded-Proto").lower()
    return scheme if scheme in ("http", "https") else "http"
