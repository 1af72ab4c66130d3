"""Issue 16, item 2: `cardsmith diff [REV]` shows the cards a commit changed, before and after, in the preview's
look: tested in headless Chromium (the page loads with no console errors, the math typesets, a card's script
never runs), and through the CLI with git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from browsercheck import driver  # noqa: F401
from test_preview import errors_in_console, open_preview

CARDS = r"""
## What is the sigmoid $\sigma(x)$?
<!-- id: sigmoid; tags: level::basic -->

$\sigma(x) = \frac{1}{1+e^{-x}}$

## What does ReLU compute?
<!-- id: relu -->

$\max(0, x)$

## What is a tensor?
<!-- id: tensor -->

An n-dimensional array.

## Softmax is {{c1::$\frac{e^{z_i} }{\sum_j e^{z_j} }$}}.
<!-- id: softmax; type: cloze -->
"""
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, done.stderr
    return done.stdout


def committed(project, cards: str = CARDS) -> None:
    project.write({"cards/test/a.md": cards})
    git(project.root, "init", "-q", "-b", "main")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "v1")


def test_diff_of_a_commit_that_edits_two_cards_shows_those_two_before_and_after(project, driver):
    committed(project)
    path = project.root / "cards/test/a.md"
    path.write_text(path.read_text().replace(r"$\max(0, x)$", r"$\max(0, x)$, also written $x^+$").replace(
        "An n-dimensional array.", "A multi-dimensional array."))
    git(project.root, "commit", "-qam", "two cards")
    result = project.run("diff", "HEAD~1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Test Deck: 2 changed, 0 new, 0 deleted since HEAD~1",
        "  changed: relu (cards/test/a.md:6): Back",
        "  changed: tensor (cards/test/a.md:11): Back",
        "Before and after: dist/diff/index.html",
    ]
    page = project.dist / "diff" / "index.html"
    text = page.read_text()
    assert 'src="http' not in text and 'href="http' not in text  # offline
    driver.get_log("browser")
    open_preview(driver, page)  # waits for MathJax to typeset the page
    assert errors_in_console(driver) == []
    assert driver.execute_script("return [...document.querySelectorAll('.df-change')].map(e => e.id)") == [
        "change-relu", "change-tensor"]
    sides = driver.execute_script(
        "return [...document.querySelectorAll('.df-change')].map(c => [...c.querySelectorAll('.df-side')].map("
        "s => [s.querySelector('.df-label').textContent, s.querySelector('.cs-answer').textContent.trim(), "
        "s.querySelectorAll('mjx-container').length]))")
    assert [[label for label, _, _ in change] for change in sides] == [["before (HEAD~1)", "after (working tree)"]] * 2
    assert [formulas for _, _, formulas in sides[0]] == [1, 2]  # the formula added, typeset
    assert [answer for answer, in [[a] for _, a, _ in sides[1]]] == ["An n-dimensional array.",
                                                                     "A multi-dimensional array."]
    assert driver.execute_script("return document.querySelectorAll('mjx-merror').length") == 0


def test_diff_against_the_last_commit_by_default_new_and_deleted_cards(project):
    committed(project)
    path = project.root / "cards/test/a.md"
    path.write_text(path.read_text().replace("## What is a tensor?\n<!-- id: tensor -->\n\nAn n-dimensional array.\n",
                                             "") + "\n## New?\n<!-- id: new -->\n\nYes.\n")
    result = project.run("diff")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "Test Deck: 0 changed, 1 new, 1 deleted since HEAD",
        "  new: new (cards/test/a.md:15)",
        "  deleted: tensor (cards/test/a.md:11)",
    ]
    html = (project.dist / "diff" / "index.html").read_text()
    assert '<p class="df-none">new card</p>' in html and '<p class="df-none">deleted</p>' in html


HOSTILE = """
## Does anything run?
<!-- id: hostile -->

<img src="data:,x" onerror="(window.ran = window.ran || []).push('img')"><script>(window.ran = window.ran || []).push('s')</script>
"""


def test_a_cards_script_never_runs_in_the_page(project, driver):
    committed(project, CARDS + HOSTILE)
    path = project.root / "cards/test/a.md"
    path.write_text(path.read_text().replace("Does anything run?", "Does anything run now?"))
    assert project.run("diff").exit_code == 0
    open_preview(driver, project.dist / "diff" / "index.html")
    assert driver.execute_script("return window.ran || []") == []
    assert driver.execute_script("return document.querySelectorAll('.df-change').length") == 1


def test_diff_refuses_what_it_cannot_compare(project, tmp_path):
    project.write({"cards/test/a.md": CARDS})
    result = project.run("diff")
    assert result.exit_code == 1 and "not in a git repository" in result.stderr
    committed(project)
    result = project.run("diff", "no-such-branch")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "no-such-branch:0: not a revision of this git repository (a commit, " \
                                            "branch or tag)"
    result = project.run("diff", "--", "--output=/tmp/x")  # never an option to git
    assert result.exit_code == 1 and "not a revision" in result.stderr
    assert not (project.dist / "diff").exists()


def test_a_project_in_a_sub_folder_of_the_repository_and_a_revision_before_it(project):
    repo = project.root.parent
    git(repo, "init", "-q", "-b", "main")
    (repo / "README").write_text("x")
    git(repo, "add", "README")
    git(repo, "commit", "-qm", "before the deck")
    committed_in(repo, project)
    result = project.run("diff", "HEAD~1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["HEAD~1: the project had no decks yet: every card is new",
                                              "Test Deck: 0 changed, 4 new, 0 deleted since HEAD~1"]
    path = project.root / "cards/test/a.md"
    path.write_text(path.read_text().replace("An n-dimensional", "A"))
    assert project.run("diff").stdout.splitlines()[:2] == ["Test Deck: 1 changed, 0 new, 0 deleted since HEAD",
                                                           "  changed: tensor (cards/test/a.md:11): Back"]


def committed_in(repo: Path, project) -> None:
    project.write({"cards/test/a.md": CARDS})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the deck")


def test_the_init_workflow_uploads_the_page_for_pull_requests(tmp_path):
    """The scaffold's `cards-diff` job: on a pull request, `cardsmith diff` against its base, uploaded."""
    import yaml
    from click.testing import CliRunner

    from cardsmith.cli import main
    from test_init import BIN, NO_CARDSMITH_PATH, run_step

    target = tmp_path / "deck"
    spec = "cardsmith @ git+https://github.com/someone/cardsmith@v0.1.0"
    assert CliRunner().invoke(main, ["init", str(target), "--cardsmith", spec]).exit_code == 0
    job = yaml.safe_load((target / ".github/workflows/build.yml").read_text())["jobs"]["cards-diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["steps"][0] == {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}}
    upload = job["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact") and upload["with"]["path"] == "dist/diff/"
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-qm", "v1")
    base = git(target, "rev-parse", "HEAD").strip()
    card = next((target / "cards").rglob("*.md"))
    card.write_text(card.read_text().replace("any stack of linear layers", "any stack of layers"))
    git(target, "commit", "-qam", "the pull request")
    # The job's steps after the install (the build job's test runs that): cardsmith on PATH, BASE from the event.
    env = {**os.environ, **GIT_ENV, "BASE": base, "PATH": f"{BIN}:{NO_CARDSMITH_PATH}"}
    for step in job["steps"]:
        if "run" in step and "pip install" not in step["run"]:
            done = run_step(step, target, env)
            assert done.returncode == 0, (step["run"], done.stdout, done.stderr)
            assert "1 changed, 0 new, 0 deleted since " + base in done.stdout
    assert (target / upload["with"]["path"] / "index.html").is_file()
