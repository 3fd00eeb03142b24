"""What Daphne serves, in the Channels tutorial's shape: Django's ASGI application first
(it loads the apps), then the routing, whose consumers import models."""

import os

from django.core.asgi import get_asgi_application
from django.http.request import split_domain_port

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402


def same_origin(application):
    """Only a page of the host the socket was opened on: the Origin must name that Host.
    On Heroku ALLOWED_HOSTS is "*" (settings.py), which lets AllowedHostsOriginValidator pass
    any Origin; this is the check Django's CSRF makes for forms, matched by Channels' own
    OriginValidator against the one allowed origin, the request's Host (Django splits its port)."""

    async def validate(scope, receive, send):
        domain, _port = split_domain_port(dict(scope["headers"]).get(b"host", b"").decode("latin1"))
        return await OriginValidator(application, [domain])(scope, receive, send)

    return validate


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # A page on another site must not open a socket with our users' cookies: the
        # Origin header has to name one of ALLOWED_HOSTS and the host the socket is for.
        "websocket": AllowedHostsOriginValidator(same_origin(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
    }
)
