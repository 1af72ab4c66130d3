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
        "## What is ReLU? {=html}\n"  # raw form: no Markdown gives Anki's HTML without its <p>
        f"<!-- id: what-is-relu; tags: topic::activations; guid: {guid} -->\n"
        "\n"
        "```{=html}\n"
        "<b>max</b>(0, x)\n"
        "```\n")
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


def edit_in_anki(path: Path, question: str, answer: str) -> None:
    with Anki(path) as anki:
        note = anki.note(question)
        note.fields[1] = answer
        anki.col.update_note(note)


def edit_source(project, old: str, new: str) -> None:
    path = project.root / "cards/test/a.md"
    path.write_bytes(path.read_bytes().replace(old.encode(), new.encode()))


def project_files(project) -> dict[Path, bytes]:
    """Every file of the project but the render cache (card files, the lock, the sync record)."""
    return {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file() and ".cache" not in p.parts}


def test_a_card_edited_in_both_places_is_a_conflict_until_take_says_who_wins(project, anki_path):
    synced_v1(project, anki_path)
    edit_in_anki(anki_path, "What does a non-linear activation function add?", "<p>Anki's answer.</p>")
    edit_in_anki(anki_path, "Which tags does this card have?", "<p>Anki's other answer.</p>")
    edit_source(project, "Without one, any stack of linear layers collapses into a single linear map $W_2 W_1 x$.",
                "The sources' answer.")
    edit_source(project, "The deck's.", "The sources' other answer.")
    before = project_files(project)
    conflict = run(project, "pull", anki_path, code=1)
    assert conflict.stderr.splitlines() == [
        "cards/test/a.md:8: conflict: card 'nonlinear', field 'Back' changed in Anki and in the sources since the "
        "last sync",
        "  in Anki:        <p>Anki's answer.</p>",
        "  in the sources: <p>The sources' answer.</p>",
        "cards/test/a.md:13: conflict: card 'tagged', field 'Back' changed in Anki and in the sources since the "
        "last sync",
        "  in Anki:        <p>Anki's other answer.</p>",
        "  in the sources: <p>The sources' other answer.</p>",
        "2 conflicts: nothing was written for those cards; `cardsmith pull --take anki` writes Anki's version into "
        "the sources, `--take source` keeps the sources' (the next sync puts it into Anki); or edit the card by hand",
    ]
    assert conflict.stdout.splitlines()[0] == \
        "Test Deck: 0 pulled, 0 new, 0 deleted in Anki, 0 changed in the sources only, 2 conflicts, 2 unchanged"
    assert project_files(project) == before  # nothing written, the sync record neither

    taken = run(project, "pull", anki_path, "--take", "anki", "Test Deck")
    assert taken.stdout.splitlines()[1:3] == [
        "  pulled: nonlinear (cards/test/a.md:5): Back (1 conflict: --take anki)",
        "  pulled: tagged (cards/test/a.md:10): Back (1 conflict: --take anki)",
    ]
    text = (project.root / "cards/test/a.md").read_bytes().decode()
    assert "\r\n\r\nAnki's answer.\r\n" in text and "Anki's other answer." in text and "sources'" not in text
    project.build()
    assert run(project, "sync", anki_path).stdout.splitlines()[0] == \
        "Test Deck: 0 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 4 untouched"


def test_take_source_keeps_the_sources_and_the_next_sync_puts_them_into_anki(project, anki_path):
    synced_v1(project, anki_path)
    edit_in_anki(anki_path, "Deleted in Anki?", "<p>Anki's.</p>")
    edit_source(project, "Yes.", "The sources'.")
    before = (project.root / "cards/test/a.md").read_bytes()
    result = run(project, "pull", anki_path, "--take", "source")
    assert result.stdout.splitlines()[:2] == [
        "Test Deck: 0 pulled, 0 new, 0 deleted in Anki, 1 changed in the sources only, 0 conflicts, 3 unchanged",
        f"Nothing to write from {anki_path}.",
    ]
    assert (project.root / "cards/test/a.md").read_bytes() == before
    project.build()
    synced = run(project, "sync", anki_path)
    assert "updated: gone (its text had been edited in Anki since the last sync; the deck's new version replaced " \
           "that edit)" in synced.stdout
    with Anki(anki_path) as anki:
        assert anki.note("Deleted in Anki?").fields[1] == "<p>The sources'.</p>"


def test_dry_run_prints_the_diff_and_writes_nothing(project, anki_path):
    synced_v1(project, anki_path)
    edit_in_anki(anki_path, "Deleted in Anki?", "<p>Yes, <i>really</i>.</p>")
    with Anki(anki_path) as anki:
        anki.add(["New?", "Yes."], [], "Test Deck::A")
        stock = anki.col.new_note(anki.col.models.by_name("Basic"))  # Anki's own note type, not the project's
        stock.fields = ["Stock?", "Yes."]
        anki.col.add_note(stock, anki.col.decks.id("Test Deck::A"))
        ids = [*anki.col.find_notes("New?"), *anki.col.find_notes("Stock?")]
    before = project_files(project)
    result = run(project, "pull", anki_path, "--dry-run")
    assert result.stdout.splitlines() == [
        "--- a/cards/test/a.md",
        "+++ b/cards/test/a.md",
        "@@ -15,4 +15,4 @@",
        " ## Deleted in Anki?",
        " <!-- id: gone -->",
        " ",
        "-Yes.",
        "+Yes, <i>really</i>.",
        "Test Deck: 1 pulled, 0 new, 0 deleted in Anki, 0 changed in the sources only, 0 conflicts, 3 unchanged",
        "  pulled: gone (cards/test/a.md:15): Back",
        f'  new in Anki: "New?" (note {ids[0]}): left there; --new-cards FILE writes it as a new card',
        f'  new in Anki: "Stock?" (note {ids[1]}): left there; its note type (id '
        f'{stock.mid}) is not one of the project\'s',
        "Dry run: nothing was written (1 card file would change).",
    ]
    assert project_files(project) == before


def test_delete_removes_the_cards_deleted_in_anki_from_the_sources(project, anki_path):
    synced_v1(project, anki_path)
    with Anki(anki_path) as anki:
        anki.col.remove_notes([anki.note("Which tags does this card have?").id])
    result = run(project, "pull", anki_path, "--delete")
    assert result.stdout.splitlines()[1] == \
        "  deleted: tagged (cards/test/a.md:10): deleted in Anki, removed from the sources"
    assert (project.root / "cards/test/a.md").read_bytes() == A_MD.replace(
        "## Which tags does this card have?\r\n<!-- id: tagged; tags: level::basic topic::layers -->\r\n\r\n"
        "The deck's.\r\n\r\n", "").encode()
    built = project.build()
    assert "deleted: tagged" in built.output
    synced = run(project, "sync", anki_path)
    assert synced.stdout.splitlines()[0] == "Test Deck: 0 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 3 untouched"
    assert run(project, "pull", anki_path).stdout.splitlines()[0] == \
        "Test Deck: 0 pulled, 0 new, 0 deleted in Anki, 0 changed in the sources only, 0 conflicts, 3 unchanged"


def test_without_a_sync_record_the_release_is_the_base(project, anki_path):
    """A maintainer who imports the releases (no sync): the lock's hash of each released note tells which side
    changed it; a note changed on both sides cannot be told apart field by field, and is a conflict."""
    from conftest import import_apkg

    project.write({"cards/test/b.md": B_MD})
    (project.root / "cards/test/a.md").write_bytes(A_MD.encode())
    project.build()
    with Anki(anki_path) as anki:
        assert len(import_apkg(anki.col, project.dist / "test.apkg").new) == 4
    edit_in_anki(anki_path, "Deleted in Anki?", "<p>Edited in Anki.</p>")  # only in Anki: pulled
    edit_in_anki(anki_path, "What does a non-linear activation function add?", "<p>Anki's.</p>")  # both: conflict
    edit_source(project, "Without one, any stack of linear layers collapses into a single linear map $W_2 W_1 x$.",
                "The sources'.")
    edit_source(project, "The deck's.", "Edited in the sources.")  # only in the sources
    result = run(project, "pull", anki_path, code=1)
    assert result.stdout.splitlines()[:2] == [
        "Test Deck: 1 pulled, 0 new, 0 deleted in Anki, 1 changed in the sources only, 1 conflict, 1 unchanged",
        "  pulled: gone (cards/test/a.md:15): Back",
    ]
    assert result.stderr.splitlines()[0] == (
        "cards/test/a.md:8: conflict: card 'nonlinear', field 'Back' differs in Anki and in the sources, which changed "
        "since the release (with no sync record, pull cannot tell which side changed it)")
    text = (project.root / "cards/test/a.md").read_bytes().decode()
    assert "\r\nEdited in Anki.\r\n" in text and "\r\nThe sources'.\r\n" in text


def test_without_a_sync_record_a_deck_with_a_media_folder_has_the_release_as_base(project, anki_path):
    """The lock's hash of a note using a file kept under its own name counts that file's content (import's media
    folder): pull compares Anki's note with it the same way, so an edit made only in the sources is no conflict."""
    from conftest import import_apkg
    from test_media_folder import media_project

    media_project(project)
    project.build()
    with Anki(anki_path) as anki:
        assert len(import_apkg(anki.col, project.dist / "test.apkg").new) == 2
    path = project.root / "cards/test/a.md"
    path.write_text(path.read_text().replace("![](pic.png)\n", "![](pic.png) Edited in the sources.\n"))
    result = run(project, "pull", anki_path)
    assert result.stdout.splitlines()[0] == (
        "Test Deck: 0 pulled, 0 new, 0 deleted in Anki, 1 changed in the sources only, 0 conflicts, 1 unchanged")


def test_an_edit_next_to_a_file_of_the_media_folder_is_pulled_and_keeps_its_name(project, anki_path):
    """An imported deck's images are named as Anki has them (the deck's media folder): an edit in Anki next to
    one is written into the card with the name as it is, and builds to exactly Anki's HTML (it was refused:
    the check rendered the card without its deck's media folder)."""
    from test_media_folder import media_project

    media_project(project)
    project.build()
    run(project, "sync", anki_path)
    with Anki(anki_path) as anki:
        for note in map(anki.col.get_note, anki.col.find_notes("")):
            note.fields[1] = note.fields[1].replace("<img", "See: <img", 1)
            anki.col.update_note(note)
    result = run(project, "pull", anki_path)
    assert result.stdout.splitlines()[0].startswith("Test Deck: 2 pulled, 0 new"), result.output
    text = (project.root / "cards/test/a.md").read_text()
    assert 'See: <img src="pic.png"> [sound:hello.mp3]\n' in text  # a field of format html: the HTML itself
    assert "See: ![](pic.png)\n" in text or 'See: <img alt="" src="pic.png" />' in text, text
    assert "0 new, 2 changed" in project.build().output
    assert "up to date: nothing to change" in run(project, "sync", anki_path).output
