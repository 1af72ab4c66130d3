"""`cardsmith pull` attacked (issue 16): fields edited in Anki to hold what a card file cannot, hostile tags and
GUIDs, --new-cards pointing where it must not, collections that are not, damaged sync records. Each edit is either
written so that the card builds to exactly Anki's HTML, or reported with its path:line and left alone; never
another card changed, never a traceback. Real `anki` package, through the CLI."""

from __future__ import annotations

from pathlib import Path

import genanki
import pytest

from test_pull import anki_path, run  # noqa: F401  (the fixture)
from test_pull_shapes import DECK_ID, card_file, edit, synced

# Lines and characters a card file cannot hold as they are (the parser's markup, a fence, a conflict marker,
# line breaks Python's splitlines sees), inside a field's HTML.
HOSTILE = {
    "heading": "## x",
    "field heading": "### Back",
    "separator": "---",
    "id comment": "<!-- id: y -->",
    "fence": "```",
    "comment end": "-->",
    "conflict marker": "<<<<<<< HEAD",
    "nul": "a\x00b",
    "carriage return": "a\rb",
    "line separator": "a\u2028b",
    "form feed": "a\x0cb",
    "next line": "a\x85b",
    "raw end": "```{=html}",
}
VALUES = {f"{name}, {where}": value for name, line in HOSTILE.items() for where, value in (
    ("alone", line), ("own line", f"<p>Yes.</p>\n{line}\n<p>end</p>"))}
VALUES["nested tags"] = "<b>" * 1000 + "x" + "</b>" * 1000
VALUES["a megabyte"] = "<p>" + "word " * 200_000 + "</p>"


def agrees(project, anki_path: Path, unchanged: int) -> None:
    """A second pull finds nothing to bring back and no difference: the sources build to exactly Anki's notes."""
    result = run(project, "pull", anki_path)
    assert result.stdout.splitlines()[0] == (
        f"Test Deck: 0 pulled, 0 new, 0 deleted in Anki, 0 changed in the sources only, 0 conflicts, "
        f"{unchanged} unchanged"), result.output


def written_or_reported(project, anki_path: Path, result, line: int, before: str) -> None:
    """Either the pull wrote the edit and the sources now build to Anki's notes, or it named the card and wrote
    nothing."""
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert f"cards/test/a.md:{line}: not pulled: " in result.stderr, result.output
        assert card_file(project) == before
    else:
        agrees(project, anki_path, 6)


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_a_markdown_field_edited_to_hold_what_a_card_file_cannot(project, anki_path, value):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1=value)
    before = card_file(project)
    result = project.run("pull", "--collection", str(anki_path))
    written_or_reported(project, anki_path, result, 33, before)


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_a_question_edited_to_hold_what_a_card_file_cannot(project, anki_path, value):
    synced(project, anki_path)
    edit(anki_path, "untouched", f0=value)
    before = card_file(project)
    result = project.run("pull", "--collection", str(anki_path))
    written_or_reported(project, anki_path, result, 33, before)


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_an_html_field_edited_to_hold_what_a_card_file_cannot(project, anki_path, value):
    synced(project, anki_path)
    edit(anki_path, "html-notes", f2=value)
    before = card_file(project)
    result = project.run("pull", "--collection", str(anki_path))
    written_or_reported(project, anki_path, result, 28, before)


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_a_new_note_holding_what_a_card_file_cannot(project, anki_path, value):
    from anki.collection import Collection

    synced(project, anki_path)
    col = Collection(str(anki_path))
    try:
        note = col.new_note(col.models.get(1593273294))
        note.fields = [value, value]
        col.add_note(note, col.decks.id("Test Deck"))
    finally:
        col.close()
    before = card_file(project)
    result = project.run("pull", "--collection", str(anki_path), "--new-cards", str(project.root / "cards/test/a.md"))
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "cards/test/a.md:0: not pulled: the note with GUID " in result.stderr, result.output
        assert card_file(project) == before
    else:
        agrees(project, anki_path, 7)


def test_an_edit_over_the_size_limit_is_reported_as_such(project, anki_path):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>" + "word " * 200_000 + "</p>")
    before = card_file(project)
    result = run(project, "pull", anki_path, code=1)
    assert result.stderr.splitlines() == [
        "cards/test/a.md:33: not pulled: card 'untouched': the card would not read back: card holds 1,000,022 "
        "characters of HTML in raw form, over the limit of 1,000,000"]
    assert card_file(project) == before


TAGS = ["topic::a;b", 'topic::say"so"', "topic::x-->y", "topic::ébène", "topic::深層", "topic::a::b::c",
        "topic::<!--", "topic::a,b", "topic::'q'", "topic::a]b", "topic::#x"]


def set_note(anki_path: Path, card_id: str, **values) -> None:
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        note = col.get_note(col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, card_id)))
        for key, value in values.items():
            setattr(note, key, value)
        col.update_note(note)
    finally:
        col.close()


def add_note(anki_path: Path, fields: list[str], tags: list[str], guid: str | None = None) -> None:
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        note = col.new_note(col.models.get(1593273294))
        note.fields = fields
        note.tags = tags
        if guid is not None:
            note.guid = guid
        col.add_note(note, col.decks.id("Test Deck"))
    finally:
        col.close()


@pytest.mark.parametrize("tag", TAGS)
def test_a_tag_anki_keeps_comes_back_on_an_edited_note(project, anki_path, tag):
    project.write({"cards/test/b.md": "## Tagged?\n<!-- id: tagged; tags: topic::t -->\n\nYes.\n"})
    synced(project, anki_path)
    set_note(anki_path, "tagged", tags=["topic::t", tag])
    before = (project.root / "cards/test/b.md").read_text()
    result = project.run("pull", "--collection", str(anki_path))
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "cards/test/b.md:1: not pulled: card 'tagged'" in result.stderr, result.output
        assert (project.root / "cards/test/b.md").read_text() == before
    else:
        assert "pulled: tagged" in result.stdout
        agrees(project, anki_path, 7)


@pytest.mark.parametrize("tag", TAGS)
def test_a_tag_anki_keeps_on_a_new_note(project, anki_path, tag):
    synced(project, anki_path)
    add_note(anki_path, ["New?", "Yes."], ["topic::t", tag])
    project.write({"cards/test/b.md": "## Tagged?\n<!-- id: tagged; tags: topic::t -->\n\nYes.\n"})
    project.build()
    run(project, "sync", anki_path)
    result = project.run("pull", "--collection", str(anki_path), "--new-cards", str(project.root / "cards/test/n.md"))
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "cards/test/n.md:0: not pulled: the note with GUID" in result.stderr, result.output
        assert not (project.root / "cards/test/n.md").exists()
    else:
        assert "  new: new (cards/test/n.md:" in result.stdout, result.output
        agrees(project, anki_path, 8)


@pytest.mark.parametrize("guid", ["a;b", "x-->y", "a b", "a\nb", "<!--", "a]b", "\u2028", "'", '"', "a: b",
                                  "g;id:x"])
def test_a_new_notes_guid_anki_keeps(project, anki_path, guid):
    synced(project, anki_path)
    add_note(anki_path, ["New?", "Yes."], [], guid)
    result = project.run("pull", "--collection", str(anki_path), "--new-cards", str(project.root / "cards/test/n.md"))
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        assert "cards/test/n.md:0: not pulled: the note with GUID" in result.stderr, result.output
        assert not (project.root / "cards/test/n.md").exists()
    else:
        assert "  new: new (cards/test/n.md:" in result.stdout, result.output
        agrees(project, anki_path, 7)


def test_what_pull_prints_of_anki_text_is_one_line_and_no_terminal_control(project, anki_path):
    synced(project, anki_path)
    add_note(anki_path, ["New\x1b[2J?", "Yes."], [], "a\nb\u2028c")
    edit(anki_path, "untouched", f1="<p>Yes.</p>")  # then, as a hostile collection holds it (Anki's editor strips ESC)
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        note_id = col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, "untouched"))
        col.db.execute("UPDATE notes SET flds = ? WHERE id = ?", "Untouched?\x1f<p>Yes\x1b]0;pwned\x07\u2028no.</p>",
                       note_id)
    finally:
        col.close()
    (project.root / "cards/test/a.md").write_text(card_file(project).replace("\n\nYes.\n", "\n\nYes, edited.\n"))
    result = run(project, "pull", anki_path, "--new-cards", str(project.root / "cards/test/n.md"), code=1)
    assert "\x1b" not in result.output and "\u2028" not in result.output and "\x07" not in result.output
    assert "  in Anki:        <p>Yes\\x1b]0;pwned\\x07\\u2028no.</p>" in result.stderr.splitlines()
    assert "cards/test/n.md:0: not pulled: the note with GUID a\\nb\\u2028c: " in result.stderr, result.stderr
