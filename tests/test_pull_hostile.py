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
VALUES.update({f"media {src}": f'<p>x <img src="{src}"></p>' for src in (
    "../../../etc/passwd", "/etc/passwd", "file:///etc/passwd", "..%2f..%2fetc%2fpasswd", "img/plot.png",
    "plot.png", "")})
VALUES["sound out"] = "<p>x [sound:../../../etc/passwd]</p>"
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


def new_cards(project, anki_path: Path, target: str, prepare=lambda: None):
    """Pull a note added in Anki into `target` (relative to the project, or absolute), `prepare` run after the sync."""
    synced(project, anki_path)
    add_note(anki_path, ["New?", "Yes."], [])
    prepare()
    before = card_file(project)
    result = project.run("pull", "--collection", str(anki_path), "--new-cards",
                         target if target.startswith("/") else str(project.root / target))
    assert card_file(project) == before
    return result


@pytest.mark.parametrize("target, message", [
    ("decks/test.yaml", "decks/test.yaml:0: --new-cards must name a card file under cards/"),
    ("cards/test", "'--new-cards': File"),  # click's: exit status 2
    ("cards/test/folder.md", "'--new-cards': File"),
    ("cards/test/../../decks/x.md", "--new-cards must name a card file under cards/"),
    ("cards/test/link-out.md", "cards/test/link-out.md:"),  # the build refuses it first
    ("cards/test/link-in.md", "cards/test/link-in.md:"),
    ("cards/test/sub-out/n.md", "--new-cards: its folder is outside the project"),
    ("cards/test/sub-in/n.md", "cards/test/sub-in:0: is a symbolic link"),
])
def test_new_cards_where_it_must_not_write(project, anki_path, tmp_path, target, message):
    outside = tmp_path / "outside"
    outside.mkdir()
    project.write({"decks/test.yaml": "name: Test Deck\nid: 1234567890\ncards: [test/**/*.md]\n"})
    made = {
        "cards/test/folder.md": lambda path: path.mkdir(),
        "cards/test/link-out.md": lambda path: path.symlink_to(outside / "n.md"),
        "cards/test/link-in.md": lambda path: path.symlink_to(project.root / "cards/test/dangling.md"),
        "cards/test/sub-out/n.md": lambda path: path.parent.symlink_to(outside),
        "cards/test/sub-in/n.md": lambda path: path.parent.symlink_to(project.root / "cards/elsewhere"),
    }
    (project.root / "cards/elsewhere").mkdir(parents=True)
    result = new_cards(project, anki_path, target, lambda: made.get(target, lambda _: None)(project.root / target))
    assert result.exit_code in (1, 2) and message in result.output, result.output
    assert list(outside.iterdir()) == [] and list((project.root / "cards/elsewhere").iterdir()) == []
    assert not (project.root / "cards/test/dangling.md").exists()


def test_new_cards_outside_the_project(project, anki_path, tmp_path):
    result = new_cards(project, anki_path, str(tmp_path / "n.md"))
    assert result.exit_code == 1 and "--new-cards must name a card file under cards/" in result.stderr, result.output
    assert not (tmp_path / "n.md").exists()


def test_new_cards_into_another_decks_card_file(project, anki_path):
    project.write({"decks/other.yaml": "name: Other\nid: 99\ncards: [other/*.md]\n",
                   "cards/other/o.md": "## Other?\n<!-- id: other -->\n\nYes.\n"})
    result = new_cards(project, anki_path, "cards/other/o.md")
    assert result.exit_code == 0, result.output  # both decks pulled: the file is Other's, the new note Test Deck's
    assert "new in Anki: \"New?\"" in result.stdout
    assert (project.root / "cards/other/o.md").read_text() == "## Other?\n<!-- id: other -->\n\nYes.\n"
    result = project.run("pull", "Test Deck", "--collection", str(anki_path), "--new-cards",
                         str(project.root / "cards/other/o.md"))
    assert result.exit_code == 1 and "not a card file of a deck being pulled" in result.stderr, result.output


def test_a_card_file_that_is_a_symlink_inside_the_project_is_edited_through_it(project, anki_path):
    synced(project, anki_path)
    real = project.root / "cards/kept/a.txt"
    real.parent.mkdir()
    (project.root / "cards/test/a.md").rename(real)
    (project.root / "cards/test/a.md").symlink_to(real)
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    run(project, "pull", anki_path)
    assert (project.root / "cards/test/a.md").is_symlink()
    assert real.read_text().endswith("<!-- id: untouched -->\n\nYes!\n")
    assert [p.name for p in real.parent.iterdir()] == ["a.txt"]


def test_what_a_killed_pull_left_does_not_stop_the_next(project, anki_path):
    synced(project, anki_path)
    stale = project.root / "cards/test/.a.md.k1ll3d.tmp"
    stale.write_text("half a card file")
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    run(project, "pull", anki_path)
    assert card_file(project).endswith("<!-- id: untouched -->\n\nYes!\n")
    assert sorted(p.name for p in (project.root / "cards/test").iterdir()) == ["a.md", "img"]
    project.build()


@pytest.mark.parametrize("make, message", [
    (lambda path: path.write_bytes(b""), "collection.anki2"),
    (lambda path: path.write_text("not a collection\n"), "collection.anki2"),
    (lambda path: path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100), "collection.anki2"),
    (lambda path: path.mkdir(), "collection.anki2"),
    (lambda path: None, "collection.anki2"),
])
def test_a_collection_that_is_not_one(project, tmp_path, make, message):
    project.write({"cards/test/a.md": "## Q?\n<!-- id: q -->\n\nA.\n"})
    project.build()
    path = tmp_path / "bad" / "collection.anki2"
    path.parent.mkdir()
    make(path)
    result = project.run("pull", "--collection", str(path))
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert "Traceback" not in result.output


def test_a_sqlite_database_that_is_not_a_collection(project, tmp_path):
    import sqlite3

    project.write({"cards/test/a.md": "## Q?\n<!-- id: q -->\n\nA.\n"})
    project.build()
    path = tmp_path / "collection.anki2"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER)")
    before = path.read_bytes()
    result = project.run("pull", "--collection", str(path))
    assert result.exit_code == 1 and "collection.anki2" in result.stderr, result.output
    assert path.read_bytes() == before  # pull only reads a collection: it never upgrades or creates one


def change_in_anki(anki_path: Path, change) -> None:
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        change(col)
    finally:
        col.close()


def add_a_field(col) -> None:
    model = col.models.get(1593273294)
    col.models.add_field(model, col.models.new_field("Extra"))
    col.models.save(model)


def to_anki_basic(col) -> None:
    note_id = col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, "untouched"))
    request = col.models.change_notetype_info(old_notetype_id=1593273294,
                                              new_notetype_id=col.models.by_name("Basic")["id"]).input
    request.note_ids.extend([note_id])
    col.models.change_notetype_of_notes(request)


@pytest.mark.parametrize("change, why", [
    (add_a_field, "its note type was changed in Anki (3 fields; the project's 'basic' has 2): the note is not "
                  "compared until they agree (`cardsmith sync --allow-schema-change` puts the project's back)"),
    (to_anki_basic, "its note in Anki has another note type (id "),
])
def test_a_note_whose_note_type_changed_in_anki_is_reported_not_pulled(project, anki_path, change, why):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Edited.</p>")
    change_in_anki(anki_path, change)
    before = card_file(project)
    result = run(project, "pull", anki_path, code=1)
    assert f"cards/test/a.md:33: not pulled: card 'untouched': {why}" in result.stderr, result.output
    assert card_file(project) == before


def into_a_filtered_deck(col) -> None:
    deck_id = col.decks.new_filtered("Filtered")
    deck = col.decks.get(deck_id)
    deck["terms"][0][0] = '"deck:Test Deck"'
    col.decks.save(deck)
    col.sched.rebuild_filtered_deck(deck_id)


def to_another_deck(col) -> None:
    col.set_deck(list(col.find_cards('"deck:Test Deck"')), col.decks.id("Elsewhere"))


def rename_the_deck(col) -> None:
    col.decks.rename(col.decks.by_name("Test Deck"), "Renamed")


@pytest.mark.parametrize("change", [into_a_filtered_deck, to_another_deck, rename_the_deck])
def test_an_edit_to_a_note_whose_cards_moved_in_anki_is_pulled(project, anki_path, change):
    synced(project, anki_path)
    change_in_anki(anki_path, change)
    edit(anki_path, "untouched", f1="<p>Edited.</p>")
    result = run(project, "pull", anki_path)
    assert "  pulled: untouched (cards/test/a.md:33): Back" in result.stdout.splitlines(), result.output
    assert card_file(project).endswith("<!-- id: untouched -->\n\nEdited.\n")


def test_a_note_of_a_note_type_the_project_lacks_is_listed_and_left(project, anki_path):
    synced(project, anki_path)

    def add(col):
        note = col.new_note(col.models.by_name("Basic"))
        note.fields = ["Foreign?", "Yes."]
        col.add_note(note, col.decks.id("Test Deck"))

    change_in_anki(anki_path, add)
    before = card_file(project)
    result = run(project, "pull", anki_path, "--new-cards", str(project.root / "cards/test/a.md"))
    assert "  new in Anki: \"Foreign?\" (note " in result.stdout and "is not one of the project's" in result.stdout
    assert card_file(project) == before


def record_of(project) -> Path:
    records = list((project.root / ".cardsmith/sync").iterdir())
    assert len(records) == 1
    return records[0]


def test_a_sync_folder_that_is_a_symlink_out_of_the_project_is_never_written_through(project, anki_path, tmp_path):
    synced(project, anki_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    record = record_of(project)
    record.rename(outside / record.name)
    (project.root / ".cardsmith/sync").rmdir()
    (project.root / ".cardsmith/sync").symlink_to(outside)
    saved = (outside / record.name).read_bytes()
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    result = run(project, "pull", anki_path, code=1)
    assert ".cardsmith/sync:0: is a symbolic link" in result.stderr, result.output
    assert [p.name for p in outside.iterdir()] == [record.name] and (outside / record.name).read_bytes() == saved


def test_the_sync_record_of_another_collection_is_refused(project, anki_path, tmp_path):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Edited in the first.</p>")
    run(project, "pull", anki_path)
    # A second collection with the release, and the first one's record copied to the second's name.
    second = tmp_path / "second" / "collection.anki2"
    second.parent.mkdir()
    change_in_anki(second, lambda col: None)  # a new, empty collection
    (project.root / "cards/test/a.md").write_text(card_file(project).replace("Edited in the first.", "Yes."))
    project.build()
    first_record = record_of(project)
    run(project, "sync", second)
    (project.root / "cards/test/a.md").write_text(card_file(project).replace("\n\nYes.\n", "\n\nEdited in the first.\n"))
    second_record = next(p for p in (project.root / ".cardsmith/sync").iterdir() if p != first_record)
    second_record.write_bytes(first_record.read_bytes())
    before = card_file(project)
    result = project.run("pull", "--collection", str(second))
    assert result.exit_code == 1, result.output
    assert "not the sync record of this collection" in result.stderr, result.output
    assert card_file(project) == before


@pytest.mark.parametrize("damage", [
    b"", b"{", b"[]", b'{"format": 1}', b"\xff\xfe", b"[" * 100_000,
    b'{"format": 1, "collection": "%s", "decks": {"1234567890": {"notes": {"g": {"id": 1, "fields": [], '
    b'"tags": [], "deck": ""}}}}}',
    b'{"format": 1, "collection": "%s", "decks": {"x": {"notes": {}}}}',
])
def test_a_damaged_sync_record_is_refused_and_nothing_written(project, anki_path, damage):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    record = record_of(project)
    record.write_bytes(damage.replace(b"%s", str(anki_path).encode()) if b"%s" in damage else damage)
    before = card_file(project)
    result = run(project, "pull", anki_path, code=1)
    assert result.stderr.startswith(f".cardsmith/sync/{record.name}:1: not a readable sync record"), result.output
    assert card_file(project) == before


def test_a_lock_file_with_conflict_markers(project, anki_path):
    synced(project, anki_path)
    lock = project.root / "decks/test.lock"
    text = lock.read_text()
    lines = text.splitlines(keepends=True)
    lock.write_text("".join(lines[:3]) + "<<<<<<< HEAD\n" + "".join(lines[3:]) + "=======\n>>>>>>> other\n")
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    run(project, "pull", anki_path)  # the lock is resolved as the build resolves it
    assert card_file(project).endswith("<!-- id: untouched -->\n\nYes!\n")


KILLED_AT_SECOND_REPLACE = """
    import os, signal
    from cardsmith import files
    real, calls = os.replace, []
    def replace_or_die(source, target):
        calls.append(target)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        real(source, target)
    files.os = type("os", (), {name: getattr(os, name) for name in dir(os) if not name.startswith("__")})
    files.os.replace = replace_or_die
"""


def test_a_pull_killed_between_two_files_leaves_each_whole_and_the_next_finishes(project, anki_path):
    from test_processes import cardsmith, finish

    project.write({"cards/test/b.md": "## Second file?\n<!-- id: second -->\n\nYes.\n"})
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    edit(anki_path, "second", f1="<p>Yes!</p>")
    before = {name: (project.root / "cards/test" / name).read_text() for name in ("a.md", "b.md")}
    code, output = finish(cardsmith(project.root, "pull", "--collection", str(anki_path),
                                    prelude=KILLED_AT_SECOND_REPLACE))
    assert code == -9, output
    now = {name: (project.root / "cards/test" / name).read_text() for name in ("a.md", "b.md")}
    assert sum(now[name] != before[name] for name in now) == 1  # one file replaced whole, the other untouched
    result = run(project, "pull", anki_path)
    assert "  pulled: " in result.stdout
    assert card_file(project).endswith("<!-- id: untouched -->\n\nYes!\n")
    assert (project.root / "cards/test/b.md").read_text() == "## Second file?\n<!-- id: second -->\n\nYes!\n"
    assert sorted(p.name for p in (project.root / "cards/test").iterdir()) == ["a.md", "b.md", "img"]
    agrees(project, anki_path, 7)


def test_two_pulls_at_once_write_the_edit_once(project, anki_path):
    from test_processes import cardsmith, finish

    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    first, second = (cardsmith(project.root, "pull", "--collection", str(anki_path)) for _ in range(2))
    results = [finish(first), finish(second)]
    assert [code for code, _ in results] == [0, 0], results
    assert card_file(project).endswith("<!-- id: untouched -->\n\nYes!\n")
    assert sum("1 pulled" in output for _, output in results) == 1, results


def test_many_new_notes_into_a_file_with_windows_line_endings(project, anki_path):
    synced(project, anki_path)
    for number in range(300):
        add_note(anki_path, [f"New {number}?", f"Yes, {number}."], [])
    path = project.root / "cards/test/n.md"
    path.write_bytes(b"---\r\ntype: basic\r\n---\r\n\r\n## Old?\r\n<!-- id: old -->\r\n\r\nYes.\r\n")
    result = run(project, "pull", anki_path, "--new-cards", str(path))
    assert result.stdout.splitlines()[0].startswith("Test Deck: 0 pulled, 300 new, ")
    text = path.read_bytes()
    assert text.startswith(b"---\r\ntype: basic\r\n---\r\n\r\n## Old?\r\n<!-- id: old -->\r\n\r\nYes.\r\n\r\n## New 0?")
    assert b"\n" not in text.replace(b"\r\n", b"")
    line = int(next(x for x in result.stdout.splitlines() if x.startswith("  new: new-299 ")).split(":")[-1][:-1])
    assert text.decode().split("\r\n")[line - 1].startswith("## New 299? ")  # the line reported is the card's
    agrees(project, anki_path, 306)  # the 300 and the 6 of a.md (`old` is not in Anki)


def test_a_find_and_replace_in_anki_over_many_cards_of_one_file(project, anki_path):
    from anki.collection import Collection

    many = "".join(f"## Question {i}?\r\n<!-- id: q-{i} -->\r\n\r\nAnswer {i}, $x^{{{i}}}$.\r\n\r\n" for i in range(200))
    project.write({"cards/test/a.md": many.encode(), "cards/test/b.md": "## Other?\n<!-- id: other -->\n\nAnswer.\n"})
    project.build()
    run(project, "sync", anki_path)
    col = Collection(str(anki_path))
    try:
        col.find_and_replace(note_ids=col.find_notes(""), search="Answer", replacement="Reply")
        note = col.get_note(col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, "q-7")))
        note.fields[1] += '<img src="pasted.png">'  # cannot be written: the others are
        col.update_note(note)
        col.remove_notes([col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, "q-199"))])
    finally:
        col.close()
    result = run(project, "pull", anki_path, "--delete", code=1)
    assert result.stderr.splitlines()[0].startswith("cards/test/a.md:36: not pulled: card 'q-7': field 'Back' uses")
    expected = many.replace("Answer", "Reply").replace("Reply 7,", "Answer 7,")
    expected = expected.replace("## Question 199?\r\n<!-- id: q-199 -->\r\n\r\nReply 199, $x^{199}$.\r\n\r\n", "")
    assert (project.root / "cards/test/a.md").read_bytes() == expected.encode()
    assert (project.root / "cards/test/b.md").read_text() == "## Other?\n<!-- id: other -->\n\nReply.\n"


def test_delete_removes_the_last_card_of_a_file(project, anki_path):
    synced(project, anki_path)
    change_in_anki(anki_path, lambda col: col.remove_notes(
        [col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, "untouched"))]))
    before = card_file(project)
    run(project, "pull", anki_path, "--delete")
    assert card_file(project) == before.replace("## Untouched?\n<!-- id: untouched -->\n\nYes.\n", "")
    project.build()


def damage_notes(anki_path: Path, sql: str, *args) -> None:
    """Write into a collection's notes table as a damaged or hostile collection holds it (not through Anki)."""
    import sqlite3

    with sqlite3.connect(anki_path) as db:
        db.execute(sql, args)


@pytest.mark.parametrize("sql, args, message", [
    ("UPDATE notes SET flds = CAST(? AS BLOB) WHERE guid = ?", (b"Untouched?\x1f\xff\xfe",
                                                                genanki.guid_for(DECK_ID, "untouched")),
     "its fields or tags are not text"),
    # Stored as text, as SQLite takes any bytes: Anki's backend reads them as U+FFFD, which pull would write
    # into the card file (Anki's Check Database calls it "a note with invalid utf8 characters").
    ("UPDATE notes SET flds = CAST(? AS TEXT) WHERE guid = ?", (b"Untouched?\x1f\xff\xfe",
                                                                genanki.guid_for(DECK_ID, "untouched")),
     "its fields or tags are not text"),
    ("UPDATE notes SET tags = CAST(? AS TEXT) WHERE guid = ?", (b" \xe9t\xe9 ", genanki.guid_for(DECK_ID, "untouched")),
     "its fields or tags are not text"),
    ("UPDATE notes SET guid = ? WHERE guid = ?", (genanki.guid_for(DECK_ID, "untouched"),
                                                  genanki.guid_for(DECK_ID, "plot")),
     "share the GUID"),
])
@pytest.mark.parametrize("command", ["pull", "sync"])
def test_a_damaged_collection_is_refused(project, anki_path, sql, args, message, command):
    synced(project, anki_path)
    damage_notes(anki_path, sql, *args)
    before = card_file(project)
    result = run(project, command, anki_path, code=1)
    assert result.stderr.startswith(f"{anki_path}: note ") and message in result.stderr, result.output
    assert card_file(project) == before


def test_a_replacement_character_written_in_anki_is_text(project, anki_path):
    synced(project, anki_path)
    damage_notes(anki_path, "UPDATE notes SET flds = ? WHERE guid = ?", "Untouched?\x1f\ufffd stays",
                 genanki.guid_for(DECK_ID, "untouched"))  # valid UTF-8: a character like any other
    run(project, "pull", anki_path)
    assert "\ufffd stays" in card_file(project)


def test_a_note_of_another_deck_moved_in_anki_is_not_new(project, anki_path):
    synced(project, anki_path)
    project.write({"decks/other.yaml": "name: Other\nid: 99\ncards: [other/*.md]\n",
                   "cards/other/o.md": "## Other?\n<!-- id: other -->\n\nYes.\n"})
    run(project, "sync", anki_path)  # synced, not built: no lock of Other names the card yet
    change_in_anki(anki_path, lambda col: col.set_deck(list(col.find_cards('"deck:Other"')), col.decks.id("Test Deck")))
    result = run(project, "pull", anki_path, "--new-cards", str(project.root / "cards/test/n.md"), "Test Deck")
    assert "1 new" not in result.stdout.splitlines()[0], result.output
    assert not (project.root / "cards/test/n.md").exists()
    project.build()


@pytest.mark.parametrize("subdeck", ["--- # &a *b", "x: y", "'q' \"d\"", "[1, 2]", "!!python/object x", "%YAML",
                                     "ébène 深層", "a::b", "null", "~", "yes", "1e3", " lead"])
def test_new_notes_in_a_subdeck_with_a_hostile_name_go_to_a_new_file(project, anki_path, subdeck):
    from anki.collection import Collection

    synced(project, anki_path)
    col = Collection(str(anki_path))
    try:
        note = col.new_note(col.models.get(1593273294))
        note.fields = ["New?", "Yes."]
        col.add_note(note, col.decks.id(f"Test Deck::{subdeck}"))
        name = col.decks.name(note.cards()[0].did)
    finally:
        col.close()
    result = project.run("pull", "--collection", str(anki_path), "--new-cards", str(project.root / "cards/test/n.md"))
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 0:
        agrees(project, anki_path, 7)
        assert run(project, "sync", anki_path).stdout.splitlines()[0].endswith(", 0 moved, 0 deleted, 0 suspended, "
                                                                            "7 untouched"), name
    else:
        assert "cards/test/n.md:0: not pulled: the note with GUID" in result.stderr, result.output


def test_cards_reordered_in_their_file_while_pull_runs(project, anki_path, monkeypatch):
    from cardsmith.commands import cardedit

    synced(project, anki_path)
    edit(anki_path, "plot", f1=lambda html: html.replace("A line", "A straight line"))
    edit(anki_path, "untouched", f1="<p>Yes!</p>\n<p>And more.</p>")  # two more lines in the file
    path = project.root / "cards/test/a.md"
    parts = path.read_text().split("\n## ")
    reordered = ("## " + "\n## ".join(parts[1:]) + "\n" + parts[0] + "\n").replace("\n\n\n", "\n\n")
    original = cardedit.Editor.edit

    def edit_after_a_reorder(self, card_path, shown, raw, *args):
        path.write_text(reordered)  # saved in an editor after the build, before pull reads the file
        return original(self, card_path, shown, reordered.encode(), *args)

    monkeypatch.setattr(cardedit.Editor, "edit", edit_after_a_reorder)
    result = project.run("pull", "--collection", str(anki_path))
    monkeypatch.undo()
    assert result.exit_code == 0, result.output
    assert path.read_text() == reordered.replace("A line", "A straight line").replace(
        "<!-- id: untouched -->\n\nYes.", "<!-- id: untouched -->\n\nYes!\n\nAnd more.")


def test_an_edit_of_a_long_repetitive_field(project, anki_path):
    long = " ".join(["ab"] * 1000)
    project.write({"cards/test/b.md": f"## Repetitive?\n<!-- id: repetitive -->\n\n{long}\n"})
    synced(project, anki_path)
    edit(anki_path, "repetitive", f1=f"<p>{' '.join(['ba'] * 1000)}</p>")
    run(project, "pull", anki_path)  # converted whole: aligning it with the Markdown would take minutes
    assert (project.root / "cards/test/b.md").read_text() == \
        f"## Repetitive?\n<!-- id: repetitive -->\n\n{' '.join(['ba'] * 1000)}\n"
    agrees(project, anki_path, 7)
