"""Cards rendered as Anki's reviewer shows them, in headless Chromium on a 412 px phone screen.

A tiny loopback server plays Anki's media server: `/` is the collection's media folder and
`/_anki/` Anki desktop's web files (its MathJax build and configuration, from the aqt wheel).
One reviewer page is loaded once; each card side is then swapped into `#qa` with the body
classes Anki sets (`card cardN`, plus `nightMode night_mode` at night), typeset, and probed.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from cardsmith.commands import mathjax

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREEN_WIDTH = 412
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
DESKTOP_BODY = "card card{ord} isLin"  # aqt/theme.py body_classes_for_card_ord on Linux
NIGHT_CLASSES = " nightMode night_mode"  # aqt/theme.py body_class(night_mode=True)
REVIEWER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/_anki/css/webview.css">
<link rel="stylesheet" href="/_anki/css/reviewer.css">
<script src="/_anki/js/mathjax.js"></script>
<script src="/_anki/js/vendor/mathjax/tex-chtml-full.js"></script>
</head><body class="card card1 isLin"><div id="qa" dir="auto"></div></body></html>
"""
PROBE_JS = (Path(__file__).with_name("browsercheck.js")).read_text(encoding="utf-8")


def unavailable(reason: str) -> None:
    """No browser: a failure in CI (where it must run), a skip with the reason elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason} (run `make browser-deps`)")
    pytest.skip(f"{reason}; `make browser-deps` installs it (as root or with sudo)")


def launch(user_data_dir: Path):
    """Headless Chromium as a 412 px wide phone (Debian's chromium and chromedriver, via selenium)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("the Python package selenium is not installed (pip install -e '.[test]')")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            unavailable(f"{path} is missing (Debian packages chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={user_data_dir}"]:
        options.add_argument(flag)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": SCREEN_WIDTH, "height": 915, "pixelRatio": 2.625, "touch": True}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_script_timeout(300)
    return driver


@pytest.fixture(scope="module")
def driver():
    """One browser for a test module."""
    profile = Path(tempfile.mkdtemp(prefix="cardsmith-chromium-"))
    browser = launch(profile)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


def anki_web_dir() -> Path:
    """Anki desktop's web files (downloaded once from PyPI's aqt wheel)."""
    try:
        return mathjax.web_dir()
    except mathjax.MathJaxUnavailable as error:
        unavailable(str(error))
        raise


class _Handler(http.server.SimpleHTTPRequestHandler):
    """`/_anki/...` from Anki's web folder, the reviewer page, everything else from the media folder."""

    web: Path

    def translate_path(self, path: str) -> str:
        if not path.startswith("/_anki/"):
            return super().translate_path(path)
        media, self.directory = self.directory, str(self.web)
        try:
            return super().translate_path(path[len("/_anki"):])
        finally:
            self.directory = media

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/__reviewer.html":
            body = REVIEWER_PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


class MediaServer:
    """A loopback HTTP server standing in for Anki's media server."""

    def __init__(self, media_dir: Path, web_dir: Path):
        handler = type("Handler", (_Handler,), {"web": web_dir})
        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(media_dir)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> MediaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass(frozen=True)
class Side:
    """One side of one card as Anki renders it (card.question() or card.answer())."""

    label: str
    html: str
    body_class: str


def card_sides(col, label_of) -> list[Side]:
    """Every card's question and answer, by day and by night; `label_of(card)` names the card."""
    sides = []
    for card_id in sorted(col.find_cards("")):
        card = col.get_card(card_id)
        label = label_of(card)
        day = DESKTOP_BODY.format(ord=card.ord + 1)
        for side, html in (("question", card.question()), ("answer", card.answer())):
            html = col.media.escape_media_filenames(html)
            sides.append(Side(f"{label}, {side} side, day", html, day))
            sides.append(Side(f"{label}, {side} side, night", html, day + NIGHT_CLASSES))
    return sides


def render_problems(driver, server: MediaServer, sides: list[Side], batch: int = 150,
                    sideways: bool = False) -> list[str]:
    """Render each side in the reviewer page; return one line per problem, naming card and side.

    `sideways`: a box that needs scrolling sideways (code, table, display formula) is a problem too.
    """
    driver.get(server.url + "/__reviewer.html")
    problems = []
    for start in range(0, len(sides), batch):
        chunk = sides[start:start + batch]
        found = driver.execute_async_script(PROBE_JS, [{"html": s.html, "bodyClass": s.body_class} for s in chunk],
                                            SCREEN_WIDTH, sideways)
        for side, messages in zip(chunk, found):
            problems += [f"{side.label}: {message}" for message in messages]
    return problems
