"""A Date header on every answer: RFC 9110 section 6.6.1 says an origin server with a clock
MUST send one, and Daphne sends none (Twisted adds it only in its own web server, which
Daphne does not use). First in MIDDLEWARE, so it also stamps the answers other middleware
give (redirects, 400 for a bad Host, CSRF's 403) and Django's 404 and 500 pages."""

from django.utils.decorators import async_only_middleware
from django.utils.http import http_date


@async_only_middleware
def date_header(get_response):
    async def middleware(request):
        response = await get_response(request)
        response.headers.setdefault("Date", http_date())
        return response

    return middleware
