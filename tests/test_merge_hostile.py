"""`cardsmith merge-driver` attacked (issue 16): huge card files, binary and non-card files, CRLF, inputs already
holding conflict markers, paths from a hostile `.gitattributes` (spaces, a leading `-`, `--install`), one id added
on both sides. Through git, with the driver installed as `merge-driver --install` sets it up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import DECK_YAML, REPO, Project
from test_team import git


def repo(tmp_path: Path, attributes: str = "") -> Project:
    project = Project(tmp_path / "deck")
    shutil.copytree(REPO / "templates", project.root / "templates")
    project.write({"decks/test.yaml": DECK_YAML, ".gitignore": "dist/\n.cache/\n"})
    git(project.root, "init", "-q", "-b", "main")
    assert project.run("merge-driver", "--install").exit_code == 0
    if attributes:
        with (project.root / ".gitattributes").open("a") as stream:
            stream.write(attributes)
    return project


def merged(project: Project, base: dict, ours: dict, theirs: dict, code: int = 0):
    """Commit `base` on main, `theirs` on a branch, `ours` on main, and merge the branch into main."""
    def commit(files: dict, message: str) -> None:
        for name, content in files.items():
            path = project.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        git(project.root, "add", "-A")
        git(project.root, "commit", "-qm", message)

    commit(base, "base")
    git(project.root, "checkout", "-q", "-b", "theirs")
    commit(theirs, "theirs")
    git(project.root, "checkout", "-q", "main")
    commit(ours, "ours")
    return git(project.root, "merge", "-q", "--no-edit", "theirs", code=code)


def cards(count: int, edit: int | None = None, newline: str = "\n") -> str:
    return "".join(f"## Q{i}?{newline}<!-- id: q-{i} -->{newline}{newline}A{i}{'!' if i == edit else '.'}{newline}"
                   f"{newline}" for i in range(count))


def test_a_file_of_20000_cards_edited_on_both_branches_merges(tmp_path):
    project = repo(tmp_path)
    base = cards(20_000)
    merged(project, {"cards/test/a.md": base}, {"cards/test/a.md": cards(20_000, edit=5)},
           {"cards/test/a.md": cards(20_000, edit=19_000) + "## New?\n<!-- id: new -->\n\nN.\n"})
    text = (project.root / "cards/test/a.md").read_text()
    assert "A5!" in text and "A19000!" in text and text.endswith("<!-- id: new -->\n\nN.\n")


def test_crlf_files_with_a_card_path_with_spaces(tmp_path):
    project = repo(tmp_path)
    name = "cards/test/my card; $(touch x).md"
    base = cards(3, newline="\r\n")
    merged(project, {name: base}, {name: cards(3, edit=0, newline="\r\n")},
           {name: cards(3, edit=2, newline="\r\n") + "## New?\r\n<!-- id: new -->\r\n\r\nN.\r\n"})
    text = (project.root / name).read_bytes()
    assert text == (cards(3, newline="\r\n").replace("A0.", "A0!").replace("A2.", "A2!")
                    + "## New?\r\n<!-- id: new -->\r\n\r\nN.\r\n").encode()
    assert not (project.root / "x").exists()


@pytest.mark.parametrize("name", ["--install", "-o.md", "--root=elsewhere", "-"])
def test_a_path_that_looks_like_an_option(tmp_path, name):
    project = repo(tmp_path, "* merge=cardsmith\n")
    attributes = (project.root / ".gitattributes").read_text()
    config = (project.root / ".git/config").read_text()
    base = cards(3)
    result = merged(project, {name: base}, {name: cards(3, edit=0)}, {name: cards(3, edit=2)}, code=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project.root / name).read_text() == cards(3).replace("A0.", "A0!").replace("A2.", "A2!")
    assert (project.root / ".gitattributes").read_text() == attributes
    assert (project.root / ".git/config").read_text() == config


def test_binary_and_non_card_files_under_a_catch_all_attribute(tmp_path):
    project = repo(tmp_path, "* merge=cardsmith\n")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    result = merged(project, {"img/a.png": png, "yarn.lock": "a\nb\nc\n", "notes.txt": "1\n2\n3\n4\n5\n"},
                    {"img/a.png": png + b"ours", "yarn.lock": "a\nb, ours\nc\n", "notes.txt": "1!\n2\n3\n4\n5\n"},
                    {"img/a.png": png + b"theirs", "yarn.lock": "a\nb, theirs\nc\n", "notes.txt": "1\n2\n3\n4\n5!\n"},
                    code=None)
    assert result.returncode == 1, result.stdout + result.stderr  # conflicts for the user, no crash
    assert "Traceback" not in result.stdout + result.stderr
    assert (project.root / "notes.txt").read_text() == "1!\n2\n3\n4\n5!\n"
    assert (project.root / "img/a.png").read_bytes() in (png + b"ours", png + b"theirs")


def test_inputs_already_holding_conflict_markers(tmp_path):
    project = repo(tmp_path)
    marked = "<<<<<<< HEAD\nA1 ours.\n=======\nA1 theirs.\n>>>>>>> x\n"
    base = cards(3).replace("A1.\n", marked)
    result = merged(project, {"cards/test/a.md": base}, {"cards/test/a.md": base.replace("A0.", "A0!")},
                    {"cards/test/a.md": base.replace("A2.", "A2!")}, code=None)
    assert "Traceback" not in result.stdout + result.stderr
    text = (project.root / "cards/test/a.md").read_text()
    assert "A0!" in text and "A2!" in text and marked in text
    assert project.run("build").exit_code == 1  # the markers are refused, never shipped


def test_one_id_added_on_both_sides(tmp_path):
    project = repo(tmp_path)
    base = cards(2)
    result = merged(project, {"cards/test/a.md": base}, {"cards/test/a.md": base + "## Ours?\n<!-- id: new -->\n\nO.\n"},
                    {"cards/test/a.md": base + "## Theirs?\n<!-- id: new -->\n\nT.\n"}, code=1)
    assert "card 'new': added on both branches with different text" in result.stdout + result.stderr
    build = project.run("build")
    assert build.exit_code == 1 and "duplicate id 'new'" in build.stderr


def test_a_driver_set_up_without_the_separator_stops_at_a_path_named_install(tmp_path):
    project = repo(tmp_path, "* merge=cardsmith\n")
    driver = git(project.root, "config", "merge.cardsmith.driver").stdout.strip()
    git(project.root, "config", "merge.cardsmith.driver", driver.replace(" -- ", " "))  # as installed before
    attributes = (project.root / ".gitattributes").read_text()
    result = merged(project, {"--install": cards(3)}, {"--install": cards(3, edit=0)}, {"--install": cards(3, edit=2)},
                    code=1)  # a conflict for the user to see, never ours silently kept as the merge
    assert "give --install alone" in result.stderr
    assert (project.root / ".gitattributes").read_text() == attributes


def test_install_never_writes_through_a_gitattributes_symlink(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("the user's file\n")
    project = Project(tmp_path / "deck")
    project.root.mkdir()
    git(project.root, "init", "-q", "-b", "main")
    (project.root / ".gitattributes").symlink_to(outside)
    result = project.run("merge-driver", "--install")
    assert result.exit_code == 1 and ".gitattributes:0: is a symbolic link" in result.stderr, result.output
    assert outside.read_text() == "the user's file\n"


@pytest.mark.parametrize("make", [lambda path: os.mkfifo(path), lambda path: path.mkdir(),
                                  lambda path: path.write_bytes(b"\xff\xfe")])
def test_install_refuses_a_gitattributes_it_cannot_read(tmp_path, make):
    project = Project(tmp_path / "deck")
    project.root.mkdir()
    git(project.root, "init", "-q", "-b", "main")
    make(project.root / ".gitattributes")
    result = project.run("merge-driver", "--install")
    assert result.exit_code == 1 and result.stderr.startswith(".gitattributes:0: cannot read it ("), result.output
