"""What a reader has and sees: a new shell's environment, and the pages a README tells them to open.

Shared by tests/test_quickstart.py (a quick start's server on 127.0.0.1) and the deploy
rehearsal (harness/rehearsal.py, tests/test_deploy.py: the app's herokuapp.com host, reached
through the router stand-in), so that both hold a README to the same reader.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

# A new reader's shell: who and where they are, their terminal and locale, and the machine's
# own certificate and pip settings (how this machine reaches the package index). Nothing else
# passes, so a block that needs PGHOST, DATABASE_URL or any variable its README does not set
# fails here as it would for the reader.
READER_VARIABLES = {
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "TZ",
    "TMPDIR",
    "PYENV_ROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
}
READER_PREFIXES = ("LC_", "PIP_")


def reader_env(first_on_path: Path | None = None) -> dict[str, str]:
    """A new reader's shell (READER_VARIABLES), with no virtualenv on PATH; `first_on_path`
    (the stand-in's `heroku` command's folder) before everything else there."""
    pyenv_versions = str(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions")
    path = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not entry.startswith(pyenv_versions) and not Path(entry, "activate").exists()
    ]
    env = {key: value for key, value in os.environ.items() if key in READER_VARIABLES or key.startswith(READER_PREFIXES)}
    env["PATH"] = os.pathsep.join([*([str(first_on_path)] if first_on_path else []), *path])
    return env


class AssetLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        wanted = {"link": "href", "script": "src"}.get(tag)
        value = dict(attrs).get(wanted) if wanted else None
        if value:
            self.links.append(value)


def check_pages(origin: str, paths: tuple[str, ...], reach: str | None = None, timeout: float = 30, label: str = "") -> None:
    """Each page of `origin` (scheme://host[:port], the URL the reader opens) answers 200, and so
    do the same-origin stylesheets and scripts (`<link href>`, `<script src>`) of each HTML page.
    `reach` is where those requests go when the origin's host is not one this machine resolves
    (the router stand-in's local URL for a herokuapp.com host); `label` starts each failure."""
    reach = reach or origin
    for path in paths:
        page = httpx.get(reach + path, timeout=timeout)
        assert page.status_code == 200, f"{label}GET {path} -> {page.status_code}: {page.text[:300]}"
        if page.headers.get("content-type", "").startswith("text/html"):
            parser = AssetLinks()
            parser.feed(page.text)
            for link in parser.links:
                url = urlsplit(urljoin(origin + path, link))
                if url.netloc == urlsplit(origin).netloc:
                    asset = httpx.get(reach + url.path + (f"?{url.query}" if url.query else ""), timeout=timeout)
                    assert asset.status_code == 200, f"{label}{path} links {link} -> {asset.status_code}"
