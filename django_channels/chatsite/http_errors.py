"""JSON error responses: every error carries a short message, never a traceback."""

import functools

from django.http import JsonResponse


def json_error(status, message, **headers):
    response = JsonResponse({"error": message}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def safe_methods_only(view):
    """Accept GET and HEAD; anything else is 405 with Allow and a message.

    These views change nothing a browser could be tricked into changing, so they are
    exempt from CSRF checks; otherwise a POST would meet the CSRF 403 before the 405.
    """

    @functools.wraps(view)
    async def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return json_error(405, f"method {request.method} not allowed", Allow="GET, HEAD")
        return await view(request, *args, **kwargs)

    wrapper.csrf_exempt = True
    return wrapper


def bad_request(request, exception=None):
    return json_error(400, "bad request")


def permission_denied(request, exception=None):
    return json_error(403, "forbidden")


def page_not_found(request, exception=None):
    return json_error(404, "not found")


def server_error(request):
    return json_error(500, "internal server error")
