"""Issue 12: a hostile repository can commit symbolic links where cardsmith writes (its lock, its cache, an
export, a sync record). cardsmith never writes through one: the file outside stays as it was."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import Project

CARD = """
## What is one plus one?
<!-- id: one-plus-one -->

Two.
"""


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def link(at: Path, target: Path) -> None:
    at.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, at)


@pytest.mark.parametrize("command", [("build",), ("ids",)])
def test_a_symlinked_project_lock_is_refused(project: Project, victim: Path, command):
    project.write({"cards/test/a.md": CARD})
    link(project.root / ".cache/cardsmith/project.lock", victim)
    result = project.run(*command)
    assert result.exit_code == 1
    assert ".cache/cardsmith/project.lock" in result.output and "symbolic link" in result.output
    assert victim.read_text() == "precious\n"


def test_a_symlinked_folder_on_the_way_to_the_project_lock_is_refused(project: Project, tmp_path: Path):
    project.write({"cards/test/a.md": CARD})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link(project.root / ".cache", elsewhere)
    result = project.run("build")
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_render_cache_is_replaced_not_written_through(project: Project, victim: Path, tmp_path: Path):
    project.write({"cards/test/a.md": CARD})
    project.build()
    cache_file = next((project.root / ".cache/cardsmith").glob("render-v*.sqlite"))
    for leftover in cache_file.parent.glob(cache_file.name + "*"):
        leftover.unlink()
    outside = tmp_path / "outside.sqlite"
    link(cache_file, outside)
    (project.root / "cards/test/a.md").write_text(CARD.replace("Two.", "2."))
    project.build()
    assert not outside.exists()  # nothing was created outside the project
    assert not cache_file.is_symlink() and cache_file.is_file()


@pytest.mark.parametrize("fmt,name", [("markdown", "test.md"), ("csv", "test.csv"), ("tsv", "test.tsv")])
def test_export_never_writes_through_a_symlink(project: Project, victim: Path, fmt: str, name: str):
    project.write({"cards/test/a.md": CARD})
    link(project.dist / name, victim)
    result = project.run("export", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious\n"
    assert not (project.dist / name).is_symlink() and "one plus one" in (project.dist / name).read_text().lower()


def test_preview_out_as_a_symlink_is_refused_with_a_message(project: Project, tmp_path: Path):
    project.write({"cards/test/a.md": CARD})
    elsewhere = tmp_path / "site"
    elsewhere.mkdir()
    (elsewhere / ".cardsmith-preview").write_text("a preview folder\n")
    link(project.root / "dist/preview", elsewhere)
    result = project.run("preview")
    assert result.exit_code == 1
    assert result.output.startswith(f"{project.root / 'dist/preview'}:1: is a symbolic link"), result.output
    assert sorted(p.name for p in elsewhere.iterdir()) == [".cardsmith-preview"]
