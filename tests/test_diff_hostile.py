"""`cardsmith diff` attacked (issue 16): revisions that try to read outside the project (symlinks in the tree at
REV), hostile revision arguments, card HTML that tries to run script, leave the page or reach the network when a
reviewer opens it (headless Chromium), a project path with spaces. Through the CLI, with git."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from browsercheck import driver  # noqa: F401
from test_diff import CARDS, committed, git
from test_preview import errors_in_console, open_preview


class Listener:
    """A loopback HTTP server that counts the requests it gets (what a card may try to reach)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body { background: red }")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def hostile(url: str) -> str:
    return f"""
## Does anything run?
<!-- id: hostile -->

$\\sigma(x)$ <script>(window.ran = window.ran || []).push('script')</script>
<img src="data:,x" onerror="(window.ran = window.ran || []).push('img')">
<details open ontoggle="(window.ran = window.ran || []).push('ontoggle')"><summary>s</summary>x</details>
<svg onload="(window.ran = window.ran || []).push('svg')"></svg>
<iframe srcdoc="<script>(parent.ran = parent.ran || []).push('frame')</script>"></iframe>
<img src="{url}/img">
<link rel="stylesheet" href="{url}/css">
<style>@import url("{url}/import");</style>
<object data="{url}/object"></object>
<video src="{url}/video"></video>
<meta http-equiv="refresh" content="0; url={url}/refresh">
<base href="{url}/base/">
"""


def test_a_cards_html_neither_runs_reaches_the_network_nor_leaves_the_page(project, driver):
    listener = Listener()
    try:
        committed(project, CARDS + hostile(listener.url).replace("Does anything run?", "Before?"))
        path = project.root / "cards/test/a.md"
        path.write_text(path.read_text().replace("Before?", "Does anything run?"))
        assert project.run("diff").exit_code == 0
        index = project.dist / "diff" / "index.html"
        open_preview(driver, index)  # the page's own scripts run: MathJax typesets
        assert driver.execute_script("return document.querySelectorAll('mjx-container').length") > 0
        assert driver.current_url == index.as_uri()  # the card's <meta http-equiv="refresh"> took it nowhere
        assert driver.execute_script("return window.ran || []") == []
        assert listener.hits == []  # nothing was fetched from the network
        # The only errors are the policy's refusals of what the card tried.
        refused = "violates the following Content Security Policy directive"
        errors = errors_in_console(driver)
        assert [e for e in errors if refused not in e] == []
        assert any("Loading the image 'http://127.0.0.1" in e for e in errors)
    finally:
        listener.close()
