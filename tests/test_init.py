"""Issue 7: `cardsmith init DIR` writes a project that builds; `pip install .` gives the command."""

from __future__ import annotations

import filecmp
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cardsmith.cli import main
from cardsmith.scaffold import TEMPLATES, fresh_ids
from conftest import REPO, import_apkg

BIN = Path(sys.executable).parent


def same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ between two folders (missing on either side included)."""
    diff = filecmp.dircmp(a, b)
    out = [str(a / n) for n in diff.left_only + diff.right_only + diff.diff_files + diff.funny_files]
    for sub in diff.common_dirs:
        out += same_tree(a / sub, b / sub)
    return out


def test_packaged_templates_are_the_repos():
    # The package reaches templates/ through a symlink; an install copies the files (below).
    assert TEMPLATES.resolve() == (REPO / "templates").resolve()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_init_then_make_build(tmp_path, collection):
    target = tmp_path / "my-new-deck"
    result = CliRunner().invoke(main, ["init", str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"created {target}/decks/my-new-deck.yaml" in result.output
    for name in ("cards/my-new-deck/01-example.md", "Makefile", ".github/workflows/build.yml",
                 "templates/basic/notetype.yaml", "templates/base.css", ".gitignore"):
        assert (target / name).is_file(), name
    deck = yaml.safe_load((target / "decks/my-new-deck.yaml").read_text())
    assert deck["name"] == "My New Deck" and (1 << 30) <= deck["id"] < (1 << 31)
    workflow = yaml.safe_load((target / ".github/workflows/build.yml").read_text())
    steps = [s.get("run") or s.get("uses") for s in workflow["jobs"]["build"]["steps"]]
    assert "make check" in steps and "make build BUILD_FLAGS=--frozen" in steps
    upload = workflow["jobs"]["build"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact") and upload["with"]["path"] == "dist/*.apkg"
    # Fresh note type ids: a new deck never shares (and restyles) another deck's note types.
    ours = yaml.safe_load((REPO / "templates/basic/notetype.yaml").read_text())
    new = yaml.safe_load((target / "templates/basic/notetype.yaml").read_text())
    assert new["id"] != ours["id"] and new["name"] == "My New Deck Basic"
    assert {f["id"] for f in new["fields"]}.isdisjoint(f["id"] for f in ours["fields"])

    env = {**os.environ, "CARDSMITH": str(BIN / "cardsmith")}
    build = subprocess.run(["make", "build"], cwd=target, env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    assert re.search(r"My New Deck: 4 cards, 3 notes, 0 media -> dist/my-new-deck.apkg", build.stdout)
    for goal in ("check", "test"):
        run = subprocess.run(["make", goal], cwd=target, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
    log = import_apkg(collection, target / "dist/my-new-deck.apkg")
    assert len(log.new) == 3 and not log.conflicting
    assert "My New Deck Cloze" in [m.name for m in collection.models.all_names_and_ids()]


def test_init_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x/keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "x")], catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{tmp_path / 'x'}:0: exists and is not empty" in result.output


def test_fresh_ids_keep_the_rest():
    text = (REPO / "templates/cloze/notetype.yaml").read_text()
    new = fresh_ids(text, "Deck", random.Random(1))
    assert re.sub(r"\d{6,}", "N", new).replace("\"Deck Cloze\"", "cardsmith Cloze") == re.sub(r"\d{6,}", "N", text)


def test_pip_install_gives_the_command(tmp_path):
    target, source = tmp_path / "site", tmp_path / "source"  # a copy: pip's build leaves build/ behind
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "cardsmith", source / "cardsmith", ignore=shutil.ignore_patterns("__pycache__"),
                    symlinks=True)
    shutil.copytree(REPO / "templates", source / "templates")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                              "--target", str(target), str(source)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    assert (target / "bin/cardsmith").is_file()
    installed = target / "cardsmith/data/templates"
    assert not installed.is_symlink() and same_tree(REPO / "templates", installed) == []
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([str(target / "bin/cardsmith"), "init", str(tmp_path / "deck")], env=env,
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "deck/templates/basic-reversed/reverse-front.html").is_file()
