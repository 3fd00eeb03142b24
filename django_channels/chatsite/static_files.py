"""WhiteNoise, run natively async.

WhiteNoiseMiddleware is sync-only, so under ASGI Django runs it in a thread that then
waits, blocked, for the async rest of the request: one thread pinned per request, and at
shutdown those threads wait forever for the stopped event loop. The lookup itself is a
dict get and the response a file, so it is safe to do on the event loop.
"""

from whitenoise.middleware import WhiteNoiseMiddleware

from chatsite.middleware import AsyncOnlyMixin


class AsyncWhiteNoiseMiddleware(AsyncOnlyMixin, WhiteNoiseMiddleware):
    async def __call__(self, request):
        if self.autorefresh:
            static_file = self.find_file(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)
