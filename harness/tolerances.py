"""The documented cases where the suite tolerates something less than a clean answer.

Each is as wide as the one case it exists for: which server, which request, which upstream
issue. Every use is counted and reported with record(...); anything outside the case fails.
"""

from __future__ import annotations

import re

# uWSGI's HTTP router (`http =` in uwsgi.ini) closes a kept-alive connection after a request
# with a body, without `Connection: close`, and may reset a request whose body the worker did
# not read: https://github.com/unbit/uwsgi/issues/2133
UWSGI_ROUTER_ISSUE = "unbit/uwsgi#2133"

# What the log shows when a process prints a Python traceback (contract must-have 8).
LOG_TRACEBACK = ("Traceback (most recent call last)", 'File "/')


def behind_uwsgi_router(spec) -> bool:
    """The app's web process is uWSGI, whose router fronts the workers."""
    return spec.procfile["web"].split()[0] == "uwsgi"


def traceback_in(log: str) -> str | None:
    """The lines around the first traceback in `log`, or None."""
    for marker in LOG_TRACEBACK:
        if marker in log:
            at = log.index(marker)
            return log[max(0, at - 300) : at + 1200]
    return None


def unanswered_is_the_uwsgi_router_reset(spec, raw: bytes, declared_body: bool) -> bool:
    """A raw answer of nothing at all (closed, b"") to a request that declared a body, from
    uWSGI's router (UWSGI_ROUTER_ISSUE). A hang is never this case: it raises NoAnswer."""
    return behind_uwsgi_router(spec) and declared_body and raw == b""


def declares_a_body(request: bytes) -> bool:
    head = request.split(b"\r\n\r\n", 1)[0].lower()
    return bool(re.search(rb"\r\n(content-length: *[1-9]|transfer-encoding:)", head))


def serves_with_daphne(spec) -> bool:
    return "daphne" in spec.procfile["web"].split()[:3] or "daphne_drain" in spec.procfile["web"]


def header_refusal_lost(spec, kind: str) -> str | None:
    """The upstream issue when this app's server is documented to close without an answer on
    a header block of this kind ("unparsable": a field line that is not `name: value`;
    "oversized": beyond the server's header buffer or count), else None.

    - uWSGI's HTTP router "is pretty brutal on broken requests and simply closes the
      connection" (maintainer, unbit/uwsgi#1782), also past its buffer (unbit/uwsgi#355).
    - Daphne's Twisted writes its 400 for headers over 16 KB (`totalHeadersSize`) and closes
      without reading the rest, so the kernel resets the connection and the 400 is lost
      (twisted/twisted#8250).
    """
    if behind_uwsgi_router(spec) and kind in ("unparsable", "oversized"):
        return "unbit/uwsgi#1782"
    if serves_with_daphne(spec) and kind == "oversized":
        return "twisted/twisted#8250"
    return None
