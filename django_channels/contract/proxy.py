"""Who the client is behind Heroku's router, which appends to X-Forwarded-For and -Proto:
only the rightmost entry is trustworthy. Daphne's --proxy-headers and Django's
SECURE_PROXY_SSL_HEADER read the leftmost, so Daphne runs without the first, and the
middleware below hands the second the rightmost value."""

import ipaddress

from django.utils.decorators import async_only_middleware


def rightmost(header_value):
    return header_value.rsplit(",", 1)[-1].strip()


def client_ip(request):
    """The rightmost X-Forwarded-For entry; the peer if it is missing, empty or not an IP."""
    for candidate in (rightmost(request.META.get("HTTP_X_FORWARDED_FOR", "")), request.META.get("REMOTE_ADDR", "")):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        return str(getattr(address, "ipv4_mapped", None) or address)  # '::ffff:1.2.3.4' from the [::] socket
    return ""


@async_only_middleware
def rightmost_forwarded_proto(get_response):
    """Keep only the router's X-Forwarded-Proto value, for SECURE_PROXY_SSL_HEADER and /whoami.
    Async: it runs on Daphne's event loop, above the point where the chain crosses to a thread."""

    async def middleware(request):
        if "HTTP_X_FORWARDED_PROTO" in request.META:
            proto = rightmost(request.META["HTTP_X_FORWARDED_PROTO"]).lower()
            request.META["HTTP_X_FORWARDED_PROTO"] = "https" if proto == "https" else "http"
        return await get_response(request)

    return middleware
