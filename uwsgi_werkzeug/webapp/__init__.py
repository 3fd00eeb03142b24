"""A Werkzeug application served by uWSGI: routing, requests and responses with no
framework on top. create_app() builds it; webapp.wsgi is what uWSGI loads."""

import html
import json
import logging
from http import HTTPStatus

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Map, Rule
from werkzeug.testapp import test_app as werkzeug_test_app
from werkzeug.wrappers import Request, Response

from webapp.config import Config, load_config
from webapp.db import Database, DatabaseUnavailable
from webapp.headers import HeadersMiddleware

log = logging.getLogger("webapp")

MAX_QUERIES = 500
EXTRA_FORTUNE = (0, "Additional fortune added at request time.")

HOME_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>uWSGI + Werkzeug on Heroku</title></head>
<body>
<h1>uWSGI serving a Werkzeug application</h1>
<p>One <code>uwsgi.ini</code>: an HTTP socket on <code>$PORT</code> (IPv4 and IPv6),
WEB_CONCURRENCY workers loaded lazily with a few threads each, graceful shutdown on
SIGTERM, harakiri under the router's 30 s, memory reports in the log. Postgres through a
psycopg pool per worker sized from DATABASE_CONNECTION_LIMIT.</p>
<ul>
<li><a href="/health">/health</a> dependency checks</li>
<li><a href="/json">/json</a> and <a href="/plaintext">/plaintext</a></li>
<li><a href="/db">/db</a>, <a href="/queries?queries=5">/queries?queries=5</a>,
<a href="/updates?queries=5">/updates?queries=5</a></li>
<li><a href="/fortunes">/fortunes</a></li>
<li><a href="/whoami">/whoami</a> the client behind one trusted proxy</li>
<li><a href="/testapp/">/testapp/</a> Werkzeug's own test application, as the article serves it</li>
</ul>
</body></html>
"""


def json_response(payload, status=200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        status=f"{status} {HTTPStatus(status).phrase}",
        mimetype="application/json",
    )


def error_response(status: int, message: str, headers=None) -> Response:
    response = json_response({"error": message}, status)
    if headers:
        response.headers.extend(headers)
    return response


def parse_queries(request: Request) -> int:
    """Missing, empty, not an integer or below 1 means 1; above 500 means 500."""
    try:
        count = int(request.args.get("queries", "1"))
    except ValueError:
        return 1
    return min(max(count, 1), MAX_QUERIES)


class WebApp:
    def __init__(self, config: Config):
        self.config = config
        self.database = Database(config)
        self.url_map = Map(
            [
                Rule("/", endpoint="home", methods=["GET"]),
                Rule("/health", endpoint="health", methods=["GET"]),
                Rule("/json", endpoint="json", methods=["GET"]),
                Rule("/plaintext", endpoint="plaintext", methods=["GET"]),
                Rule("/db", endpoint="db", methods=["GET"]),
                Rule("/queries", endpoint="queries", methods=["GET"]),
                Rule("/updates", endpoint="updates", methods=["GET"]),
                Rule("/fortunes", endpoint="fortunes", methods=["GET"]),
                Rule("/whoami", endpoint="whoami", methods=["GET"]),
            ]
        )

    # Views: each takes the Request and returns a Response.

    def home(self, request):
        return Response(HOME_PAGE, mimetype="text/html")

    def health(self, request):
        checks = {"database": "not configured", "redis": "not configured"}
        if self.database.configured:
            try:
                self.database.ping()
                checks["database"] = "ok"
            except DatabaseUnavailable as error:
                checks["database"] = f"database unavailable: {error}"
        healthy = all(value in ("ok", "not configured") for value in checks.values())
        return json_response(
            {"status": "ok" if healthy else "error", "checks": checks}, 200 if healthy else 503
        )

    def json(self, request):
        return json_response({"message": "Hello, World!"})

    def plaintext(self, request):
        return Response("Hello, World!", mimetype="text/plain")

    def db(self, request):
        return json_response(self.database.random_world())

    def queries(self, request):
        return json_response(self.database.random_worlds(parse_queries(request)))

    def updates(self, request):
        return json_response(self.database.update_worlds(parse_queries(request)))

    def fortunes(self, request):
        rows = self.database.fortunes()
        rows.append(EXTRA_FORTUNE)
        rows.sort(key=lambda row: row[1])
        table = "".join(
            f"<tr><td>{fortune_id}</td><td>{html.escape(message)}</td></tr>"
            for fortune_id, message in rows
        )
        body = (
            "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
            f"<tr><th>id</th><th>message</th></tr>{table}</table></body></html>"
        )
        return Response(body, mimetype="text/html")

    def whoami(self, request):
        # ProxyFix has already replaced remote_addr and scheme with the values the one
        # trusted hop (Heroku's router) appended.
        return json_response({"ip": request.remote_addr, "scheme": request.scheme})

    # Dispatch.

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, arguments = adapter.match()
            return getattr(self, endpoint)(request, **arguments)
        except MethodNotAllowed as error:
            return error_response(
                405, "method not allowed", [("Allow", ", ".join(error.valid_methods or []))]
            )
        except NotFound:
            return error_response(404, "not found")
        except HTTPException as error:
            # Redirects (a path with doubled slashes) and other protocol answers.
            if error.code and error.code < 400:
                return error.get_response(request.environ)
            return error_response(error.code or 400, error.description or error.name)
        except DatabaseUnavailable as error:
            return error_response(503, f"database unavailable: {error}")
        except Exception as error:
            log.exception("unhandled error on %s %s", request.method, request.path)
            message = repr(error) if self.config.debug else "internal server error"
            return error_response(500, message)

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)


def create_app(config: Config | None = None):
    """Build the WSGI callable: the contract app, Werkzeug's test app under /testapp,
    behind one trusted proxy, with the headers and limits every response needs."""
    config = load_config() if config is None else config
    web = WebApp(config)
    mounted = DispatcherMiddleware(web, {"/testapp": werkzeug_test_app})
    # Exactly one hop is trusted: Heroku's router appends the address it saw to
    # X-Forwarded-For, anything to its left is whatever the client claimed.
    behind_router = ProxyFix(mounted, x_for=1, x_proto=1)
    wrapped = HeadersMiddleware(behind_router, max_body_bytes=config.max_body_bytes)
    wrapped.webapp = web
    return wrapped
