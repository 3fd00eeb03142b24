"""A real browser for the suite: Playwright driving the machine's own Chromium or Chrome.

`playwright install` downloads a browser build from Playwright's CDN, which a machine without
outbound access (or a CI runner with only OS packages) does not have; Playwright drives any
recent Chromium through `executable_path` instead. `make test` checks beforehand that one is
installed (scripts/prerequisites).

    from harness.browser import browser

    with browser() as chromium:
        page = chromium.new_page()
        page.goto(url)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

# Looked up in this order after $CHROMIUM: Debian's package, Ubuntu's and Fedora's, Google's.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# --no-sandbox: the suite runs as root in containers, where Chromium's sandbox cannot start.
# --disable-dev-shm-usage: Docker's /dev/shm is 64 MB, too small for a renderer; use /tmp.
# --disable-gpu: no GPU on a CI runner; without this Chromium logs GPU process errors.
LAUNCH_ARGS = ("--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu")

INSTALL_HINT = "apt-get install chromium (Debian), chromium-browser (Ubuntu), or set CHROMIUM=/path/to/chrome"


def find_chromium() -> str:
    """The browser executable: $CHROMIUM if set (it must exist), else the first candidate on PATH."""
    if named := os.environ.get("CHROMIUM"):
        found = shutil.which(named)
        if not found:
            raise FileNotFoundError(f"CHROMIUM={named} is not an executable: {INSTALL_HINT}")
        return found
    for name in CANDIDATES:
        if found := shutil.which(name):
            return found
    raise FileNotFoundError(f"no Chromium or Chrome on PATH (looked for {', '.join(CANDIDATES)}): {INSTALL_HINT}")


@contextmanager
def browser() -> Iterator[Browser]:
    """A headless browser, closed (with its processes) on exit."""
    executable = find_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=list(LAUNCH_ARGS))
        try:
            yield launched
        finally:
            launched.close()
