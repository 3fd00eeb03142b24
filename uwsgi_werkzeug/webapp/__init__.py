"""A Werkzeug application served by uWSGI: routing, requests and responses with no
framework on top. create_app() builds it; webapp.wsgi is what uWSGI loads."""

import html
import ipaddress
import json
import logging

from werkzeug.exceptions import HTTPException, MethodNotAllowed, SecurityError
from werkzeug.http import http_date
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.routing import Map, Rule
from werkzeug.testapp import test_app as werkzeug_test_app
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_host

from webapp.config import Config, load_config
from webapp.db import Database, DatabaseUnavailable

log = logging.getLogger("webapp")

MAX_QUERIES = 500
EXTRA_FORTUNE = (0, "Additional fortune added at request time.")

HOME_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>uWSGI + Werkzeug on Heroku</title></head>
<body>
<h1>uWSGI serving a Werkzeug application</h1>
<p>One <code>uwsgi.ini</code>: uWSGI's HTTP router on <code>$PORT</code> (IPv4 and IPv6)
in front of WEB_CONCURRENCY workers loaded lazily with a few threads each, graceful
shutdown on SIGTERM, harakiri under the router's 30 s, memory reports in the log.
Postgres through a psycopg pool per worker sized from DATABASE_CONNECTION_LIMIT.</p>
<ul>
<li><a href="/health">/health</a> dependency checks</li>
<li><a href="/json">/json</a> and <a href="/plaintext">/plaintext</a></li>
<li><a href="/db">/db</a>, <a href="/queries?queries=5">/queries?queries=5</a>,
<a href="/updates?queries=5">/updates?queries=5</a></li>
<li><a href="/fortunes">/fortunes</a></li>
<li><a href="/whoami">/whoami</a> the client behind one trusted proxy</li>
%s</ul>
</body></html>
"""
TEST_APP_LINK = '<li><a href="/testapp/">/testapp/</a> Werkzeug\'s test application, as the article serves it</li>\n'


def json_response(payload, status=200, headers=None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, headers=headers, mimetype="application/json")


def parse_queries(request: Request) -> int:
    """Missing, empty, not an integer or below 1 means 1; above 500 means 500."""
    try:
        count = int(request.args.get("queries", "1"))
    except ValueError:
        return 1
    return min(max(count, 1), MAX_QUERIES)


def rightmost(value: str | None) -> str:
    """The entry Heroku's router appended: the last of a comma-separated header."""
    return (value or "").rsplit(",", 1)[-1].strip()


def client_address(request: Request) -> str:
    """The rightmost X-Forwarded-For entry if it is an address, else the peer."""
    for candidate in (rightmost(request.headers.get("X-Forwarded-For")), request.remote_addr or ""):
        try:
            address = ipaddress.ip_address(candidate)
        except ValueError:
            continue
        mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:203.0.113.9 is 203.0.113.9
        return str(mapped or address)
    return request.remote_addr or ""


def request_error(request: Request) -> str | None:
    """What uWSGI's router passes on and leaves to the application (RFC 9112): a header
    name with white space (`Bad Name:` arrives as HTTP_BAD NAME, `X-A :` as HTTP_X_A ), and
    anything but one Host (repeated ones arrive joined with ","). Every request counts as
    HTTP/1.1 here (uwsgi.ini, http-var), and Heroku's router always sends a Host."""
    if any(" " in key for key in request.environ if key.startswith("HTTP_")):
        return "malformed header name"
    host = request.headers.get("Host", "")
    if not host.strip() or "," in host:
        return "exactly one Host header is required"
    return None


class WebApp:
    def __init__(self, config: Config):
        self.config = config
        self.database = Database(config)
        self.url_map = Map(
            [
                Rule(f"/{name}", endpoint=name, methods=["GET"])
                for name in ["health", "json", "plaintext", "db", "queries", "updates", "fortunes", "whoami"]
            ]
            + [Rule("/", endpoint="home", methods=["GET"])]
        )
        # Werkzeug's own mounting middleware, as the article serves the test app.
        self.wsgi_app = self.handle
        if config.serve_test_app:
            self.wsgi_app = DispatcherMiddleware(self.handle, {"/testapp": werkzeug_test_app})

    # Views: each takes the Request and returns a Response.

    def home(self, request):
        link = TEST_APP_LINK if self.config.serve_test_app else ""
        return Response(HOME_PAGE % link, mimetype="text/html")

    def health(self, request):
        checks = {"database": "not configured", "redis": "not configured"}
        if self.database.configured:
            try:
                self.database.ping()
                checks["database"] = "ok"
            except DatabaseUnavailable as error:
                checks["database"] = f"database unavailable: {error}"
        healthy = all(value in ("ok", "not configured") for value in checks.values())
        return json_response({"status": "ok" if healthy else "error", "checks": checks}, 200 if healthy else 503)

    def json(self, request):
        return json_response({"message": "Hello, World!"})

    def plaintext(self, request):
        return Response("Hello, World!", mimetype="text/plain")

    def db(self, request):
        return json_response(self.database.random_worlds(1)[0])

    def queries(self, request):
        return json_response(self.database.random_worlds(parse_queries(request)))

    def updates(self, request):
        return json_response(self.database.update_worlds(parse_queries(request)))

    def fortunes(self, request):
        rows = self.database.fortunes()
        rows.append(EXTRA_FORTUNE)
        rows.sort(key=lambda row: row[1])
        table = "".join(f"<tr><td>{id_}</td><td>{html.escape(message)}</td></tr>" for id_, message in rows)
        body = (
            "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
            f"<tr><th>id</th><th>message</th></tr>{table}</table></body></html>"
        )
        return Response(body, mimetype="text/html")

    def whoami(self, request):
        # Heroku's router is the one trusted hop: only what it appended (the rightmost
        # entry) is believed, and a scheme is only ever http or https.
        scheme = rightmost(request.headers.get("X-Forwarded-Proto")).lower()
        return json_response({"ip": client_address(request), "scheme": scheme if scheme in ("http", "https") else "http"})

    # Dispatch.

    def dispatch(self, request: Request) -> Response:
        if message := request_error(request):
            return json_response({"error": message}, 400)
        try:
            # Werkzeug compares a declared body with request.max_content_length when the
            # stream is opened and raises its 413; no route reads a body, so every route
            # answers a too-large one alike.
            request.stream  # noqa: B018
            endpoint, arguments = self.url_map.bind_to_environ(request.environ).match()
            return getattr(self, endpoint)(request, **arguments)
        except MethodNotAllowed as error:
            return json_response({"error": "method not allowed"}, 405, [("Allow", ", ".join(error.valid_methods or []))])
        except HTTPException as error:
            if error.code and error.code < 400:  # a redirect, e.g. //json -> /json
                return error.get_response(request.environ)
            return json_response({"error": error.name.lower()}, error.code or 400)
        except DatabaseUnavailable as error:
            return json_response({"error": f"database unavailable: {error}"}, 503)
        except Exception as error:
            log.exception("unhandled error on %s %s", request.method, request.path)
            return json_response({"error": repr(error) if self.config.debug else "internal server error"}, 500)

    def handle(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = self.config.max_body_bytes
        return self.dispatch(request)(environ, start_response)

    def __call__(self, environ, start_response):
        # uWSGI adds no Date (its add-header is a fixed text; a per-request one needs its
        # internal routing, which a pip build without PCRE lacks), and RFC 9110 section
        # 6.6.1 requires it on every 2xx-4xx answer: add it here, the test app's too.
        def start_response_with_date(status, headers, exc_info=None):
            if not any(name.lower() == "date" for name, _ in headers):
                headers = [*headers, ("Date", http_date())]
            return start_response(status, headers, exc_info)

        if self.config.allowed_hosts is not None:  # ALLOWED_HOSTS (config.py), the test app included
            try:
                get_host(environ, trusted_hosts=self.config.allowed_hosts)  # Werkzeug's own Host check
            except SecurityError:
                return json_response({"error": "this host is not in ALLOWED_HOSTS"}, 400)(environ, start_response_with_date)
        return self.wsgi_app(environ, start_response_with_date)


def create_app(config: Config | None = None) -> WebApp:
    """Build the WSGI callable from the environment (or an explicit Config in tests)."""
    return WebApp(load_config() if config is None else config)
