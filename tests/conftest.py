"""Shared fixtures: tiny projects in a temp dir, the CLI as a user runs it, a real Anki collection."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsmith.cli import main

REPO = Path(__file__).resolve().parent.parent


class Project:
    """A cardsmith project in a temp dir, built from a dict of {path: text}."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, files: dict[str, str | bytes]) -> None:
        for name, content in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")

    def run(self, *args: str, env: dict | None = None):
        """Run `cardsmith ARGS --root ROOT`; returns the click Result (exit_code, output)."""
        command, rest = args[0], list(args[1:])
        result = CliRunner().invoke(main, [command, "--root", str(self.root), *rest], env=env,
                                    catch_exceptions=False)
        return result

    def build(self, *args: str, env: dict | None = None):
        result = self.run("build", *args, env=env)
        assert result.exit_code == 0, result.output
        return result

    @property
    def dist(self) -> Path:
        return self.root / "dist"


DECK_YAML = """
name: Test Deck
id: 1234567890
cards: [test/*.md]
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project with the repo's templates and one deck, `decks/test.yaml` over cards/test/*.md."""
    root = tmp_path / "proj"
    shutil.copytree(REPO / "templates", root / "templates")
    proj = Project(root)
    proj.write({"decks/test.yaml": DECK_YAML})
    return proj


@pytest.fixture
def collection(tmp_path: Path):
    """A fresh, empty Anki collection (the real Rust backend from PyPI's `anki`)."""
    from anki.collection import Collection

    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield col
    col.close()


def import_apkg(col, path: Path):
    """Import a package as Anki desktop does by default ("update notes: if newer"); return the log."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(package_path=str(path),
                                       options=ImportAnkiPackageOptions(with_scheduling=False))
    return col.import_anki_package(request).log


def notes_by_front(col) -> dict[str, object]:
    """All notes keyed by their first field."""
    return {col.get_note(nid).fields[0]: col.get_note(nid) for nid in col.find_notes("")}


def assert_integrity(col) -> None:
    """Anki's own "Check Database" finds nothing to fix."""
    message, ok = col.fix_integrity()
    assert ok, message  # what Anki found (and fixed), to tell a real problem from a flaky one
    assert message.strip() == "Database rebuilt and optimized.", message


def review_all(col, deck_name: str, ease: int = 4) -> int:
    """Answer every new card in a deck as a learner would (4 = Easy); return how many."""
    col.decks.select(col.decks.id_for_name(deck_name))
    count = 0
    while (card := col.sched.getCard()) is not None:
        col.sched.answerCard(card, ease)
        count += 1
    return count


def visible_html(html: str) -> str:
    """A rendered card side without its <style> block."""
    import re

    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def assert_renders_cleanly(card) -> tuple[str, str]:
    """Both sides render with no template error; return (question, answer) without CSS."""
    question, answer = visible_html(card.question()), visible_html(card.answer())
    for side in (question, answer):
        lowered = side.lower()
        for sign in ("template error", "no field called", "is blank", "{{", "unknown filter"):
            assert sign not in lowered, side
    return question, answer


def question_and_answer(path: Path, question: str, answer: str, answer_line: int = 3):
    """A two-field note as resolve makes it (Front, Back), for the render stage alone."""
    from cardsmith.model import FieldText, Section, SourceNote
    from cardsmith.resolve import resolved_note

    source = SourceNote("x", path, path.name, 1, 2, "basic", (), None, None,
                        (Section(None, question, 1), Section(None, answer, answer_line)))
    return resolved_note(source, "guid", (FieldText("Front", question, 1), FieldText("Back", answer, answer_line)), "Deck")
