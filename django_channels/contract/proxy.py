"""Who the client is, behind exactly one trusted proxy (Heroku's router).

The router appends to X-Forwarded-For and X-Forwarded-Proto, so only the rightmost entry
is trustworthy; Daphne's --proxy-headers and Django's SECURE_PROXY_SSL_HEADER read the
leftmost, which a client can forge. So Daphne runs without the first, and the second gets
the rightmost value from the middleware below.
"""

import ipaddress


def rightmost(header_value):
    return header_value.rsplit(",", 1)[-1].strip()


def client_ip(request):
    """The rightmost X-Forwarded-For entry; the peer if it is missing, empty or not an IP."""
    for candidate in (rightmost(request.META.get("HTTP_X_FORWARDED_FOR", "")), request.META.get("REMOTE_ADDR", "")):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        # '::ffff:127.0.0.1' is an IPv4 client of the dual-stack [::] socket.
        mapped = getattr(address, "ipv4_mapped", None)
        return str(mapped or address)
    return ""


class RightmostForwardedProtoMiddleware:
    """Keep only the router's X-Forwarded-Proto value, for SECURE_PROXY_SSL_HEADER and /whoami."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "HTTP_X_FORWARDED_PROTO" in request.META:
            proto = rightmost(request.META["HTTP_X_FORWARDED_PROTO"]).lower()
            request.META["HTTP_X_FORWARDED_PROTO"] = "https" if proto == "https" else "http"
        return self.get_response(request)
