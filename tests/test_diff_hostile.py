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


SECRET = "the maintainer's secret"


@pytest.mark.parametrize("link, target", [
    ("cards", "/"),
    ("cards/test/a.md", "SECRET"),  # an absolute path to a file outside the project
    ("cards/test/a.md", "../../../secret.md"),
    ("cards/test/b.md", "../../../secret.md"),
    ("templates/basic/back.html", "SECRET"),
])
def test_a_revision_whose_tree_has_a_symlink_out_of_the_project(project, tmp_path, link, target):
    secret = tmp_path / "secret.md"  # next to the project folder: ../secret.md from it
    secret.write_text(f"## {SECRET}?\n<!-- id: secret -->\n\n{SECRET}.\n")
    committed(project)
    path = project.root / link
    kept = path.read_bytes() if path.is_file() else None
    if path.is_dir():
        path.rename(tmp_path / "kept")
    elif path.exists():
        path.unlink()
    path.symlink_to(str(secret) if target == "SECRET" else target)
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "a link out")
    path.unlink()
    if kept is not None:
        path.write_bytes(kept)
    elif (tmp_path / "kept").exists():
        (tmp_path / "kept").rename(path)
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "the link removed")
    result = project.run("diff", "HEAD~1")
    assert result.exit_code == 0, result.output
    assert f"HEAD~1: {link}: a symbolic link out of the project there: left out" in result.output.splitlines()
    assert SECRET not in result.output
    page = project.dist / "diff" / "index.html"
    assert not page.exists() or SECRET not in page.read_text()


@pytest.mark.parametrize("rev", ["-o", "--output=x", "HEAD;rm -rf x", "../", "HEAD:cards", "HEAD^{tree}", "\n",
                                 "-", "--", "@{-1}", "HEAD~99"])
def test_hostile_revision_arguments(project, rev):
    committed(project)
    result = project.run("diff", "--", rev)
    assert result.exit_code == 1 and "not a revision of this git repository" in result.stderr, result.output
    assert not (project.dist / "diff").exists() and not (project.root / "x").exists()


def test_a_working_tree_symlink_out_of_the_project_is_refused(project, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(f"## {SECRET}?\n<!-- id: secret -->\n\n{SECRET}.\n")
    committed(project)
    (project.root / "cards/test/c.md").symlink_to(secret)
    result = project.run("diff")
    assert result.exit_code == 1 and "cards/test/c.md:1: card file 'cards/test/c.md' is outside the project" \
        in result.stderr, result.output
    assert SECRET not in result.output and not (project.dist / "diff").exists()


def test_a_project_path_with_spaces_and_a_huge_diff(tmp_path):
    import shutil

    from conftest import REPO, Project

    project = Project(tmp_path / "my deck; $(x) 'q'")
    shutil.copytree(REPO / "templates", project.root / "templates")
    project.write({"decks/test.yaml": "name: Test Deck\nid: 1234567890\ncards: [test/*.md]\n"})
    many = "".join(f"## Question {i}?\n<!-- id: q-{i} -->\n\nAnswer $x_{{{i}}}$.\n\n" for i in range(2000))
    committed(project, many)
    (project.root / "cards/test/a.md").write_text(many.replace("Answer", "Reply"))
    result = project.run("diff")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Test Deck: 2000 changed, 0 new, 0 deleted since HEAD"
    assert (project.dist / "diff" / "index.html").read_text().count('class="df-change"') == 2000


def test_what_diff_prints_of_a_revisions_file_names_is_one_line_and_no_terminal_control(project, tmp_path):
    committed(project)
    link = project.root / "cards/test/\x1b[2Jevil\nname.md"
    link.symlink_to("/")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "a link with a hostile name")
    link.unlink()
    result = project.run("diff")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "HEAD: cards/test/\\x1b[2Jevil\\nname.md: a symbolic link out of the project there: left out" in \
        result.output.splitlines()
