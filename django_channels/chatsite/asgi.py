"""The ASGI entry point Daphne serves: HTTP to Django, websockets to the chat consumers."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
# Set Django up (settings, apps, models) before anything below imports a model
# (what get_asgi_application does, with the handler below instead of Django's).
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from chatsite.middleware import INLINE_REPLACEMENTS  # noqa: E402


class SharedThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler without a thread of its own per request.

    Django wraps each request in a ThreadSensitiveContext, so its thread-sensitive
    sync_to_async calls get a new thread, started for the request and joined at its end.
    Every request makes one such call (response.close(), which sends request_finished),
    and starting a thread blocks the event loop until the new thread gets the GIL: under
    load, behind up to 18 busy database threads. Every view and middleware here is async
    and no sync code keeps per-request thread state, so those calls can share asgiref's
    one long-lived sync thread instead.

    It also runs Django's built-in middleware inline on the loop (chatsite.middleware).
    """

    def load_middleware(self, is_async=False):
        """Django's middleware, as the inline subclasses in chatsite.middleware."""
        declared = settings.MIDDLEWARE
        settings.MIDDLEWARE = [INLINE_REPLACEMENTS.get(path, path) for path in declared]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = declared

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


django_http = SharedThreadASGIHandler()

from django.core import signals  # noqa: E402
from django.db import close_old_connections, reset_queries  # noqa: E402


def slim_request_signals():
    """Keep Django's per-request signal receivers off needless thread hand-offs.

    ASGIHandler sends request_started with asend(), which runs sync receivers through
    sync_to_async(thread_sensitive=True): a thread hand-off per request, measured as a
    cost under load. request_finished is sent from response.close(), which the handler
    already runs in a thread, so its sync receivers stay sync (an async one would hop
    back to the loop from there).
    - close_old_connections is dropped from both. Connections are per thread and no HTTP
      request touches the database on the handler's thread: all ORM work runs in
      chatsite.db's run_db (and the consumers' database_sync_to_async), which closes the
      connection before and after every call on the thread that used it.
    - reset_queries (request_started) runs inline on the loop: it only clears the
      in-memory query logs.
    """
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    signals.request_started.disconnect(reset_queries)

    async def reset_queries_inline(**kwargs):
        reset_queries(**kwargs)

    # weak=False: the wrapper is a closure, referenced from nowhere else.
    signals.request_started.connect(reset_queries_inline, weak=False, dispatch_uid="reset-queries-inline")


slim_request_signals()

from chatsite.db import open_database_pool  # noqa: E402

open_database_pool()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

from chatsite.http_edge import HttpEdge  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": HttpEdge(django_http),
        # A page on another site must not open a socket with our users' cookies: the
        # Origin header has to name one of ALLOWED_HOSTS.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
