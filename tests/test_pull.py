"""Issue 16: `cardsmith pull` brings edits made in Anki back into the Markdown, through the CLI, against the real
`anki` package: the issue's scenario (sync v1; edit in Anki and in the sources; pull; build and sync: a fixed
point), conflicts and --take, --dry-run, --delete, and what pull refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import assert_integrity

# a.md has Windows line endings (CRLF): pull keeps them, and every byte it does not edit.
A_MD = (
    "---\r\n"
    "subdeck: A\r\n"
    "---\r\n"
    "\r\n"
    "## What does a non-linear activation function add?\r\n"
    "<!-- id: nonlinear; tags: level::basic -->\r\n"
    "\r\n"
    "Without one, any stack of linear layers collapses into a single linear map $W_2 W_1 x$.\r\n"
    "\r\n"
    "## Which tags does this card have?\r\n"
    "<!-- id: tagged; tags: level::basic topic::layers -->\r\n"
    "\r\n"
    "The deck's.\r\n"
    "\r\n"
    "## Deleted in Anki?\r\n"
    "<!-- id: gone -->\r\n"
    "\r\n"
    "Yes.\r\n"
)
B_MD = """\
---
subdeck: A
---

## Edited in the sources?
<!-- id: source-edit; tags: level::basic -->

Answer four.
"""
BASIC_ID = 1593273294  # templates/basic/notetype.yaml
EDITED_ANSWER = ("<p>Without one, <b>any</b> stack of linear layers collapses into a single linear map \\(W_2 W_1 x\\), "
                 "e.g. \\(y = \\frac{a}{b}\\).</p>")


@pytest.fixture
def anki_path(tmp_path: Path) -> Path:
    """A fresh, empty collection file, closed (as a maintainer's is while Anki is not running)."""
    from anki.collection import Collection

    folder = tmp_path / "profile"
    folder.mkdir()
    Collection(str(folder / "collection.anki2")).close()
    return folder / "collection.anki2"


def run(project, command: str, path: Path, *args: str, code: int = 0):
    result = project.run(command, "--collection", str(path), *args)
    assert result.exit_code == code, result.output
    return result


class Anki:
    """The collection, opened for a maintainer's edits in Anki."""

    def __init__(self, path: Path):
        from anki.collection import Collection

        self.col = Collection(str(path))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.col.close()

    def note(self, question: str):
        return self.col.get_note(self.col.find_notes(f'"Front:<p>{question}</p>"')[0])

    def add(self, fields: list[str], tags: list[str], deck: str) -> str:
        note = self.col.new_note(self.col.models.get(BASIC_ID))
        note.fields = fields
        note.tags = tags
        self.col.add_note(note, self.col.decks.id(deck))
        return note.guid


def synced_v1(project, anki_path: Path) -> None:
    project.write({"cards/test/b.md": B_MD})
    (project.root / "cards/test/a.md").write_bytes(A_MD.encode())
    project.build()
    result = run(project, "sync", anki_path)
    assert result.output.splitlines()[0].startswith("Test Deck: 4 added")


def test_the_issue_scenario(project, anki_path):
    synced_v1(project, anki_path)
    with Anki(anki_path) as anki:
        note = anki.note("What does a non-linear activation function add?")
        note.fields[1] = EDITED_ANSWER
        anki.col.update_note(note)
        tagged = anki.note("Which tags does this card have?")
        tagged.tags += ["topic::activations", "mine"]  # the deck's top level `topic`; the maintainer's own tag
        anki.col.update_note(tagged)
        guid = anki.add(["What is ReLU?", "<b>max</b>(0, x)"], ["topic::activations", "mine"], "Test Deck::A")
        anki.col.remove_notes([anki.note("Deleted in Anki?").id])
    (project.root / "cards/test/b.md").write_text(B_MD.replace("Answer four.", "Answer four, corrected."))
    b_before = (project.root / "cards/test/b.md").read_bytes()

    result = run(project, "pull", anki_path, "--new-cards", str(project.root / "cards/test/new.md"))
    expected_a = A_MD.replace(
        "any stack of linear layers collapses into a single linear map $W_2 W_1 x$.",
        "<b>any</b> stack of linear layers collapses into a single linear map $W_2 W_1 x$, "
        "e.g. $y = \\frac{a}{b}$.").replace("tags: level::basic topic::layers -->",
                                             "tags: level::basic topic::layers topic::activations -->")
    assert (project.root / "cards/test/a.md").read_bytes() == expected_a.encode()
    assert (project.root / "cards/test/b.md").read_bytes() == b_before  # changed in the sources only: untouched
    assert (project.root / "cards/test/new.md").read_text() == (
        "---\nsubdeck: A\n---\n\n"  # where the note is in Anki
        "## <!-- html --> What is ReLU?\n"
        f"<!-- id: what-is-relu; tags: topic::activations; guid: {guid} -->\n"
        "\n"
        "<!-- html -->\n"
        "<b>max</b>(0, x)\n")
    assert result.output.splitlines()[:-1] == [
        "Test Deck: 2 pulled, 1 new, 1 deleted in Anki, 1 changed in the sources only, 0 conflicts, 0 unchanged",
        "  pulled: nonlinear (cards/test/a.md:5): Back",
        "  pulled: tagged (cards/test/a.md:10): tags +topic::activations",
        "  new: what-is-relu (cards/test/new.md:5)",
        "  deleted in Anki: gone (cards/test/a.md:15): kept in the sources (--delete removes it)",
    ]
    assert result.output.splitlines()[-1].startswith(f"Pulled from {anki_path} into 2 card files (")

    # Build and sync: the sources' own edit goes to Anki, nothing else changes on either side.
    project.build()
    synced = run(project, "sync", anki_path)
    assert synced.output.splitlines()[0] == \
        "Test Deck: 0 added, 1 updated, 0 moved, 0 deleted, 0 suspended, 4 untouched"
    with Anki(anki_path) as anki:
        assert anki.note("What does a non-linear activation function add?").fields[1] == EDITED_ANSWER
        assert sorted(anki.note("Which tags does this card have?").tags) == [
            "level::basic", "mine", "topic::activations", "topic::layers"]
        assert anki.note("Edited in the sources?").fields[1] == "<p>Answer four, corrected.</p>"
        relu = anki.col.get_note(anki.col.find_notes("ReLU")[0])
        assert relu.guid == guid and relu.fields == ["What is ReLU?", "<b>max</b>(0, x)"]
        assert_integrity(anki.col)
    files = {p: p.read_bytes() for p in (project.root / "cards/test").iterdir()}
    again = run(project, "pull", anki_path)
    assert again.output.splitlines()[0] == \
        "Test Deck: 0 pulled, 0 new, 1 deleted in Anki, 0 changed in the sources only, 0 conflicts, 4 unchanged"
    assert {p: p.read_bytes() for p in (project.root / "cards/test").iterdir()} == files
    assert run(project, "sync", anki_path).output.splitlines()[-1] == f"{anki_path} is up to date: nothing to change."
