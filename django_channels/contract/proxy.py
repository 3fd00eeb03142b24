"""Who the client is, as seen behind exactly one trusted proxy (Heroku's router).

The router appends the address it saw to X-Forwarded-For, so only the rightmost entry is
trustworthy; everything left of it is whatever the client claimed. Daphne's
--proxy-headers takes the leftmost entry, which any client can forge, so this app does not
use it and reads the raw headers here, in one place.
"""

import ipaddress


def unmapped(address):
    """'::ffff:127.0.0.1' -> '127.0.0.1': an IPv4 client of the dual-stack [::] socket."""
    try:
        mapped = ipaddress.IPv6Address(address).ipv4_mapped
    except ValueError:
        return address
    return str(mapped) if mapped else address


def rightmost(header_value):
    entries = [entry.strip() for entry in header_value.split(",")]
    return entries[-1] if entries else ""


def client_ip(request):
    forwarded_for = rightmost(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    return unmapped(forwarded_for or request.META.get("REMOTE_ADDR", ""))


def client_scheme(request):
    proto = rightmost(request.META.get("HTTP_X_FORWARDED_PROTO", "")).lower()
    return "https" if proto == "https" else "http"
