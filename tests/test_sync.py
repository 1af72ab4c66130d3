"""Issue 15: `cardsmith sync --collection`, through the CLI, against the real `anki` package."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_integrity
from sync_scenario import REVIEWED, V1, V2, V2_PLAN, check_v2, contents, notes_by_question, scheduling


@pytest.fixture
def anki_path(tmp_path: Path) -> Path:
    """A fresh, empty collection file, closed (as a learner's is while Anki is not running)."""
    from anki.collection import Collection

    folder = tmp_path / "profile"
    folder.mkdir()
    Collection(str(folder / "collection.anki2")).close()
    return folder / "collection.anki2"


def sync(project, path: Path, *args: str, code: int = 0, env: dict | None = None):
    result = project.run("sync", "--collection", str(path), *args, env=env)
    assert result.exit_code == code, result.output
    return result


def learner_v1_work(path: Path) -> None:
    """What the learner does in Anki between v1 and v2: reviews, own tags, a card moved by hand."""
    from anki.collection import Collection

    col = Collection(str(path))
    try:
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            if card.note().fields[0].removeprefix("<p>").removesuffix("</p>") in REVIEWED:
                card.start_timer()
                col.sched.answerCard(card, 3)
        note = col.get_note(col.find_notes('"Front:<p>Keep me?</p>"')[0])
        note.tags += ["mine", "marked"]
        col.update_note(note)
        hand = col.find_cards('"Front:<p>Moved by hand?</p>"')
        col.set_deck(hand, col.decks.id("Elsewhere"))
    finally:
        col.close()


def database_check(path: Path) -> None:
    from anki.collection import Collection

    col = Collection(str(path))
    try:
        assert_integrity(col)
    finally:
        col.close()


def v1_synced(project, path: Path) -> None:
    """v1 built, synced into the fresh collection, then the learner's work."""
    project.write(V1)
    project.build()
    result = sync(project, path)
    assert result.output.splitlines()[0] == "Test Deck: 6 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 0 untouched"
    learner_v1_work(path)


def test_the_issue_scenario(project, anki_path):
    v1_synced(project, anki_path)
    before, schedule_before = notes_by_question(anki_path), scheduling(anki_path)
    options_before = contents(anki_path)["deck_config"]
    project.write(V2)
    project.build("--allow-deletions")  # v2 deletes 2 of v1's 6 cards
    untouched = anki_path.read_bytes()
    dry = sync(project, anki_path, "--dry-run")
    assert dry.output.splitlines() == V2_PLAN + [f"Dry run: nothing was changed in {anki_path}."]
    assert anki_path.read_bytes() == untouched  # not even opened for writing

    real = sync(project, anki_path)
    assert real.output.splitlines()[:-1] == V2_PLAN
    assert real.output.splitlines()[-1].startswith(f"Synced into {anki_path} (")
    check_v2(before, notes_by_question(anki_path), schedule_before, scheduling(anki_path))
    assert contents(anki_path)["deck_config"] == options_before  # the learner's deck options
    database_check(anki_path)

    again = sync(project, anki_path)  # a fixed point: nothing left to do
    assert again.output.splitlines() == ["Test Deck: 0 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 5 untouched",
                                         V2_PLAN[2], f"{anki_path} is up to date: nothing to change."]


def test_kill_in_the_middle_leaves_the_collection_as_it_was(project, anki_path):
    v1_synced(project, anki_path)
    project.write(V2)
    project.build("--allow-deletions")  # v2 deletes 2 of v1's 6 cards
    before = contents(anki_path)
    env = {**os.environ, "CARDSMITH_TEST_SYNC_PAUSE": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "cardsmith", "sync", "--root", str(project.root), "--collection",
                             str(anki_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = proc.stderr.readline()
        assert "paused in the middle of the sync" in line, line + proc.stderr.read()
        # The notes are added and updated, not yet committed (without the transaction, this test fails).
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert contents(anki_path) == before
    database_check(anki_path)
    assert contents(anki_path)["notes"] == before["notes"]
    # The killed sync recorded nothing: the next one does the whole plan.
    assert sync(project, anki_path).output.splitlines()[:-1] == V2_PLAN


def test_a_failure_rolls_everything_back(project, anki_path, monkeypatch):
    from cardsmith.anki.collection import CollectionTarget

    v1_synced(project, anki_path)
    project.write(V2)
    before = contents(anki_path)

    original = CollectionTarget._apply
    calls = []

    def half(self, plan, progress, pause):  # the deck's changes are made, then it fails
        calls.append(plan)
        original(self, plan, progress, pause)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(CollectionTarget, "_apply", half)
    result = sync(project, anki_path, code=1)
    assert calls and "the sync failed and was rolled back, nothing was changed: RuntimeError: disk on fire" in result.output
    assert contents(anki_path) == before
    database_check(anki_path)


def test_delete_reviewed(project, anki_path):
    v1_synced(project, anki_path)
    project.write(V2)
    result = sync(project, anki_path, "--delete-reviewed")
    assert "  deleted: gone-reviewed (removed from the deck, reviewed: --delete-reviewed)" in result.output
    notes = notes_by_question(anki_path)
    assert "Gone, reviewed?" not in notes and "Gone, never reviewed?" not in notes
    assert result.output.splitlines()[0].startswith("Test Deck: 1 added, 1 updated, 1 moved, 2 deleted, 0 suspended")


def test_deletions_known_from_the_record_alone(project, anki_path):
    """No build between the syncs (the lock never saw the cards): the sync record knows what it put there."""
    project.write(V1)
    sync(project, anki_path)
    project.write(V2)
    assert not (project.root / "decks" / "test.lock").exists()
    result = sync(project, anki_path)
    assert "  deleted: gone-new (removed from the deck, never reviewed)" in result.output
    assert "Gone, never reviewed?" not in notes_by_question(anki_path)


def test_a_card_back_in_the_deck_is_unsuspended(project, anki_path):
    v1_synced(project, anki_path)
    project.write(V2)
    sync(project, anki_path)
    assert notes_by_question(anki_path)["Gone, reviewed?"]["suspended"] == [True]
    project.write(V1)
    result = sync(project, anki_path)
    assert "  updated: gone-reviewed (back in the deck: unsuspended)" in result.output
    back = notes_by_question(anki_path)["Gone, reviewed?"]
    assert back["suspended"] == [False] and "cardsmith::deleted" not in back["tags"]


def test_learner_edits_survive_until_the_card_changes(project, anki_path):
    from anki.collection import Collection

    v1_synced(project, anki_path)
    col = Collection(str(anki_path))
    for text in ("Moved by hand?", "Keep me?"):
        note = col.get_note(col.find_notes(f'"Front:<p>{text}</p>"')[0])
        note.fields[1] = "My own words."
        col.update_note(note)
    col.close()
    project.write(V2)
    result = sync(project, anki_path, "-v")
    assert "  kept: hand-moved keeps the text edited in Anki (unchanged in the deck)" in result.output
    assert ("  updated: keep-me (its text had been edited in Anki since the last sync; the deck's new version "
            "replaced that edit)") in result.output
    notes = notes_by_question(anki_path)
    assert notes["Moved by hand?"]["fields"][1] == "My own words."
    assert notes["Keep me?"]["fields"][1] == "<p>Answer one, corrected.</p>"


def test_first_sync_over_an_apkg_import(project, anki_path):
    """A learner who imported the .apkg first: the notes are found by GUID, nothing is duplicated."""
    from anki.collection import Collection

    from conftest import import_apkg

    project.write(V1)
    project.build()
    col = Collection(str(anki_path))
    import_apkg(col, project.dist / "test.apkg")
    col.close()
    before = notes_by_question(anki_path)
    result = sync(project, anki_path)
    assert result.output.splitlines()[0] == "Test Deck: 0 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 6 untouched"
    assert notes_by_question(anki_path) == before
    project.write(V2)
    project.build("--allow-deletions")  # v2 deletes 2 of v1's 6 cards  # the lock says where releases put each card: the move is done without a record too
    shutil.rmtree(project.root / ".cardsmith")
    result = sync(project, anki_path)
    assert '  moved: mover from "Test Deck::A" to "Test Deck::B"' in result.output
    assert len(notes_by_question(anki_path)) == 5


def test_template_and_css_changes_update_the_note_type_in_place(project, anki_path):
    project.write(V1)
    sync(project, anki_path)
    schema_before = contents(anki_path)["col"][0]
    css = project.root / "templates" / "basic" / "style.css"
    css.write_text((css.read_text(encoding="utf-8") if css.exists() else "") + "\n.card { color: teal; }\n",
                   encoding="utf-8")
    front = project.root / "templates" / "basic" / "front.html"
    front.write_text(front.read_text(encoding="utf-8") + "\n<!-- v2 -->\n", encoding="utf-8")
    result = sync(project, anki_path)
    assert "  note type updated: cardsmith Basic (templates, CSS)" in result.output
    assert result.output.splitlines()[0].endswith("0 updated, 0 moved, 0 deleted, 0 suspended, 6 untouched")
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        model = col.models.get(col.models.id_for_name("cardsmith Basic"))
        assert model["tmpls"][0]["qfmt"].endswith("<!-- v2 -->\n") and "color: teal" in model["css"]
    finally:
        col.close()
    assert contents(anki_path)["col"][0][3] == schema_before[3]  # scm: no full sync needed


def test_a_new_field_needs_allow_schema_change(project, anki_path):
    project.write(V1)
    sync(project, anki_path)
    spec = project.root / "templates" / "basic" / "notetype.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        "  - {name: Back, id: 555622155700208}", "  - {name: Back, id: 555622155700208}\n  - {name: Source, id: 777}"),
        encoding="utf-8")
    before = anki_path.read_bytes()
    refused = sync(project, anki_path, code=1)
    assert ("templates/basic/notetype.yaml:1: note type 'cardsmith Basic': this change adds field 'Source', which "
            "changes the collection's schema: Anki then needs a full sync with AnkiWeb") in refused.output
    assert "--allow-schema-change" in refused.output and anki_path.read_bytes() == before
    scm_before = contents(anki_path)["col"][0][3]
    result = sync(project, anki_path, "--allow-schema-change")
    assert "  note type updated: cardsmith Basic (adds field 'Source')" in result.output
    assert contents(anki_path)["col"][0][3] != scm_before  # Anki marked the full sync
    notes = notes_by_question(anki_path)
    assert notes["Keep me?"]["fields"] == ["<p>Keep me?</p>", "<p>Answer one.</p>", ""]
    assert "Test Deck: 0 added, 0 updated" in sync(project, anki_path).output
    database_check(anki_path)


def test_removing_a_field_is_refused(project, anki_path):
    project.write(V1)
    sync(project, anki_path)
    spec = project.root / "templates" / "basic" / "notetype.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("  - {name: Back, id: 555622155700208}\n", ""),
                    encoding="utf-8")
    back = spec.parent / "back.html"  # a note type's templates use only its own fields, its cards fill only those
    back.write_text(back.read_text(encoding="utf-8").replace("{{Back}}", ""), encoding="utf-8")
    cards = project.root / "cards/test/a.md"
    cards.write_text("".join(line for line in cards.read_text(encoding="utf-8").splitlines(keepends=True)
                             if not line.startswith("Answer")), encoding="utf-8")
    result = sync(project, anki_path, "--allow-schema-change", code=1)
    assert "removes field 'Back'. That would delete cards, review history or note text in Anki" in result.output


def test_refusals_change_nothing(project, anki_path, tmp_path):
    from anki.collection import Collection

    project.write(V1)
    open_col = Collection(str(anki_path))  # Anki running with this profile
    try:
        result = sync(project, anki_path, code=1)
    finally:
        open_col.close()
    assert f"{anki_path}:0: the collection is open in Anki (or Anki is syncing its media): close Anki first" \
        in result.output
    missing = sync(project, tmp_path / "nowhere" / "collection.anki2", code=1)
    assert "no Anki collection here" in missing.output and not (tmp_path / "nowhere").exists()
    junk = tmp_path / "junk.anki2"
    junk.write_bytes(b"not a database at all" * 100)
    assert "not an Anki collection Anki can open" in sync(project, junk, code=1).output
    assert junk.read_bytes() == b"not a database at all" * 100


def test_a_collection_from_a_newer_anki_is_refused(project, anki_path):
    from cardsmith.anki.collection import SCHEMA

    project.write(V1)
    conn = sqlite3.connect(anki_path)
    assert conn.execute("SELECT ver FROM col").fetchone()[0] == SCHEMA  # what the installed anki writes
    conn.execute("UPDATE col SET ver = ?", (SCHEMA + 1,))
    conn.commit()
    conn.close()
    before = anki_path.read_bytes()
    result = sync(project, anki_path, code=1)
    assert f"the collection was made by a newer Anki (schema {SCHEMA + 1}) than the installed anki package" \
        in result.output
    assert anki_path.read_bytes() == before


def test_a_collection_in_the_old_schema_stays_in_it(project, anki_path):
    from anki.collection import Collection

    Collection(str(anki_path)).close(downgrade=True)  # as Anki 2.1.28 to 2.1.49 leave it
    project.write(V1)
    sync(project, anki_path)
    conn = sqlite3.connect(anki_path)
    assert conn.execute("SELECT ver FROM col").fetchone()[0] == 11
    conn.close()
    col = Collection(str(anki_path))
    try:
        assert len(col.find_notes("")) == 6
        assert_integrity(col)
    finally:
        col.close()


def test_without_the_anki_package(project, anki_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "anki.collection", None)  # what `import` sees when anki is not installed
    project.write(V1)
    result = sync(project, anki_path, code=1)
    assert "syncing into a collection file needs the `anki` package: pip install 'cardsmith[sync]'" in result.output


def test_mistakes_in_the_sources_stop_the_sync_before_the_collection_is_opened(project, anki_path):
    project.write({"cards/test/a.md": "## No id here?\n\nAnswer.\n"})
    before = anki_path.read_bytes()
    result = sync(project, anki_path, code=1)
    assert "cards/test/a.md:1:" in result.output and anki_path.read_bytes() == before


def test_the_default_profile_is_found_and_named(project, anki_path):
    project.write(V1)
    base = anki_path.parent.parent
    (anki_path.parent).rename(base / "User 1")
    result = project.run("sync", env={"ANKI_BASE": str(base)})
    assert result.exit_code == 0, result.output
    found = base / "User 1" / "collection.anki2"
    assert result.output.splitlines()[0] == f'Syncing into the collection of Anki profile "User 1", the only profile: {found}'


def test_a_damaged_sync_record_is_reported(project, anki_path):
    project.write(V1)
    sync(project, anki_path)
    (record,) = (project.root / ".cardsmith" / "sync").glob("*.json")
    record.write_text('{"format": 1, "decks": {"1": {"notes": {"x": {"id": 3}}}}}', encoding="utf-8")
    result = sync(project, anki_path, code=1)
    assert f".cardsmith/sync/{record.name}:1: not a readable sync record" in result.output


@pytest.mark.parametrize("text", ['{"format": 1, "decks": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                  '{"format": 1, "decks": {"1": {"notes": {"g": {"id": "a", "fields": [], '
                                  '"tags": ["\\ud800"], "deck": "D"}}}}}'], ids=["nested", "lone-surrogate"])
def test_a_hostile_sync_record_is_reported(project, anki_path, text):
    """JSON nested 100,000 deep (a RecursionError before) or holding half a UTF-16 pair (a UnicodeEncodeError when
    the record was written back) is a record cardsmith did not write: one line, and nothing changes."""
    project.write(V1)
    sync(project, anki_path)
    (record,) = (project.root / ".cardsmith" / "sync").glob("*.json")
    record.write_text(text, encoding="utf-8")
    before = anki_path.read_bytes()
    result = sync(project, anki_path, code=1)
    assert result.output.startswith(f".cardsmith/sync/{record.name}:1: not a readable sync record (")
    assert "Traceback" not in result.output and anki_path.read_bytes() == before


def test_a_dry_run_opens_nothing_for_writing(project, anki_path):
    """A dry run plans from a copy: the collection file, its folder and its time stay as they were (opening a
    collection lets Anki write to it)."""
    project.write(V1)
    sync(project, anki_path)
    project.write(V2)
    folder = anki_path.parent
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()}
    dry = sync(project, anki_path, "--dry-run")
    assert dry.output.splitlines()[-1] == f"Dry run: nothing was changed in {anki_path}."
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "sync"])
@pytest.mark.parametrize("kind", ["empty", "foreign"])
def test_a_file_that_is_no_collection_is_refused_and_left_alone(project, tmp_path, kind, dry_run):
    """Anki's backend turns any file it is given, an empty one or another program's SQLite database, into a new
    collection: a sync (even a dry run, which said "nothing was changed") did so."""
    path = tmp_path / "not-a-collection.anki2"
    if kind == "empty":
        path.touch()
    else:
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE mine (x)")
        conn.commit()
        conn.close()
    before = path.read_bytes()
    project.write(V1)
    result = sync(project, path, *(["--dry-run"] if dry_run else []), code=1)
    assert result.output.splitlines()[0] == (f"{path}:0: not an Anki collection (it has no `col` table): give the "
                                             "collection.anki2 file of a profile, or its folder")
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name, "proj"]


CLOZES = {"cards/test/c.md": """
    ## {{c1::Paris}} is the capital of {{c2::France}}.
    <!-- id: unreviewed; type: cloze -->

    ## {{c1::Rome}} is the capital of {{c2::Italy}}.
    <!-- id: reviewed; type: cloze -->

    ## {{c1::Madrid}} is the capital of Spain.
    <!-- id: edited-in-anki; type: cloze -->
    """}


def test_a_card_its_note_no_longer_makes_is_deleted_unless_reviewed(project, anki_path):
    """A release drops c2 of two notes: the sync deletes the card never reviewed and suspends the reviewed one
    (--delete-reviewed deletes it), so that nothing shows "No cloze found". A card the learner's own edit makes
    (c2 added in Anki to a note the deck did not change) is theirs: left alone."""
    from anki.collection import Collection

    project.write(CLOZES)
    sync(project, anki_path)
    col = Collection(str(anki_path))
    try:
        ords = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            if "Rome" in note["Text"]:
                card = next(c for c in note.cards() if c.ord == 1)
                card.start_timer()
                col.sched.answerCard(card, 3)
            if "Madrid" in note["Text"]:
                note["Text"] = note["Text"].replace("Spain", "{{c2::Spain}}")
                col.update_note(note)
            ords[note["Text"].split()[0]] = sorted(c.ord for c in note.cards())
        assert ords == {"<p>{{c1::Paris}}": [0, 1], "<p>{{c1::Rome}}": [0, 1], "<p>{{c1::Madrid}}": [0, 1]}
    finally:
        col.close()
    project.write({"cards/test/c.md": CLOZES["cards/test/c.md"].replace("{{c2::France}}", "France")
                   .replace("{{c2::Italy}}", "Italy")})
    result = sync(project, anki_path)
    assert result.output.splitlines()[:3] == [
        "Test Deck: 0 added, 2 updated, 0 moved, 0 deleted, 0 suspended, 1 untouched, 2 cards no longer made "
        "(1 deleted, 1 suspended)",
        "  deleted card: unreviewed c2 (the note no longer makes it; never reviewed)",
        "  suspended card: reviewed c2 (the note no longer makes it, but it was reviewed: delete it with Tools > "
        "Empty Cards, or sync with --delete-reviewed)"]

    def cards() -> dict[str, list[tuple[int, bool]]]:
        col = Collection(str(anki_path))
        try:
            assert [n.note_id for n in col.get_empty_cards().notes] == list(col.find_notes("Rome"))
            return {col.get_note(nid)["Text"].split()[0][3:]: sorted((c.ord, c.queue == -1) for c in col.get_note(nid).cards())
                    for nid in col.find_notes("")}
        finally:
            col.close()

    assert cards() == {"{{c1::Paris}}": [(0, False)], "{{c1::Rome}}": [(0, False), (1, True)],
                       "{{c1::Madrid}}": [(0, False), (1, False)]}
    assert "no longer made" not in sync(project, anki_path).output  # the suspended card is left as it is
    result = sync(project, anki_path, "--delete-reviewed")
    assert "  deleted card: reviewed c2 (the note no longer makes it; reviewed: --delete-reviewed)" in result.output
    col = Collection(str(anki_path))
    try:
        assert not col.get_empty_cards().notes
        assert sorted(c.ord for nid in col.find_notes("Madrid") for c in col.get_note(nid).cards()) == [0, 1]
    finally:
        col.close()


def test_a_card_moved_with_its_guid_to_another_deck_is_moved_not_deleted(project, anki_path):
    """Its GUID is live in the other deck (as `build` sees it, whichever decks are built): syncing its old deck
    alone leaves the note, and syncing both moves its card, keeping the note and its history."""
    from test_lock import OTHER_DECK

    project.write({"cards/test/a.md": "## Stays?\n<!-- id: stays -->\n\nYes.\n\n## Goes?\n<!-- id: goes -->\n\nYes.\n",
                   "decks/other.yaml": OTHER_DECK, "cards/other/o.md": "## Other?\n<!-- id: other -->\n\nYes.\n"})
    project.build()
    sync(project, anki_path)
    guid = json.loads((project.root / "decks/test.lock").read_text())["cards"]["goes"]["guid"]
    project.write({"cards/test/a.md": "## Stays?\n<!-- id: stays -->\n\nYes.\n",
                   "cards/other/o.md": "## Other?\n<!-- id: other -->\n\nYes.\n\n"
                                       f"## Goes?\n<!-- id: goes; guid: {guid} -->\n\nYes.\n"})
    alone = sync(project, anki_path, "test")
    assert "deleted" not in alone.output.split("\n", 1)[1], alone.output
    both = sync(project, anki_path)
    assert '  moved: goes from "Test Deck::A" to "Other Deck::O"' in both.output.splitlines(), both.output
    assert " 0 deleted" in both.output and "kept:" not in both.output
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        note = col.get_note(col.db.scalar("SELECT id FROM notes WHERE guid = ?", guid))
        assert {col.decks.name(card.did) for card in note.cards()} == {"Other Deck::O"}
    finally:
        col.close()


def test_sync_needs_no_build_and_writes_no_dist(project, anki_path):
    project.write(V1)
    sync(project, anki_path)
    assert not project.dist.exists() and not (project.root / "decks" / "test.lock").exists()


def test_no_ankiconnect_listening(project):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    project.write(V1)
    result = project.run("sync", "--anki-connect", f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert "no answer from AnkiConnect" in result.output and "start Anki with the AnkiConnect add-on" in result.output


def test_tag_case_and_unicode_forms_reach_a_fixed_point(project, anki_path):
    """Anki keeps a tag in the case it first saw and note text in NFC: neither is a change on the next sync."""
    from anki.collection import Collection

    col = Collection(str(anki_path))
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"] = "The learner's own note"
    note.tags = ["LEVEL::BASIC"]
    col.add_note(note, col.decks.id("Mine"))
    col.close()
    project.write({"cards/test/a.md": "## Café?\n<!-- id: cafe; tags: level::basic -->\n\nCafe\u0301 au lait.\n"})
    sync(project, anki_path)
    stored = notes_by_question(anki_path)["Café?"]
    assert stored["tags"] == ["LEVEL::BASIC"] and stored["fields"][1] == "<p>Caf\u00e9 au lait.</p>"
    assert sync(project, anki_path).output.splitlines()[-1] == f"{anki_path} is up to date: nothing to change."


def test_anki_connect_takes_a_url(project):
    project.write(V1)
    result = project.run("sync", "--anki-connect", "test")
    assert result.exit_code == 1
    assert "--anki-connect takes a URL (http://…), not 'test': name the decks before the option" in result.output


class Counter:
    """A progress bar that remembers: its total, and every unit of work done."""

    def __init__(self):
        self.total = 0
        self.done = 0

    def set_total(self, total: int) -> None:
        self.total = total

    def __call__(self, count: int = 1) -> None:
        self.done += count


def test_progress_counts_the_files_then_every_change(project, anki_path):
    from cardsmith.anki.collection import open_collection
    from cardsmith.pipeline import Project
    from cardsmith.commands.sync import SyncOptions, sync as run_sync

    v1_synced(project, anki_path)
    project.write(V2)
    proj = Project(project.root)
    counter = Counter()
    counter.set_total(sum(len(proj.deck_files(d)) for d in proj.decks))  # as the command does
    result = run_sync(proj, proj.decks, lambda: open_collection(anki_path), SyncOptions(), counter)
    (plan,) = result.plans
    assert plan.steps == 5 and counter.total == 2 + 5 and counter.done == counter.total


def test_a_progress_bar_grows_with_its_total():
    from cardsmith.progress import Progress
    from test_check import FakeTerminal

    stream = FakeTerminal(True)
    with Progress("Syncing", stream=stream, delay=0.0) as progress:
        progress.set_total(2)
        progress(1)
        progress.set_total(4)  # a sync learns how many changes it makes once it has planned
        assert progress.bar.length == 4
        progress(3)
    assert "Syncing" in stream.getvalue() and "100%" in stream.getvalue()


def test_a_record_with_wrong_types_is_reported(project, anki_path):
    project.write(V1)
    sync(project, anki_path)
    (record,) = (project.root / ".cardsmith" / "sync").glob("*.json")
    data = json.loads(record.read_text(encoding="utf-8"))
    notes = next(iter(data["decks"].values()))["notes"]
    next(iter(notes.values()))["tags"] = [3]
    record.write_text(json.dumps(data), encoding="utf-8")
    assert "not a readable sync record" in sync(project, anki_path, code=1).output


def test_images_reach_the_media_folder(project, anki_path):
    from bench.generate import png

    from sync_scenario import media_of, with_image

    project.write(with_image(1))
    sync(project, anki_path)
    first, data = media_of(anki_path)
    assert data == png(1)
    project.write(with_image(2))  # a new image: a new content-hashed name, written with the update
    assert "0 added, 1 updated" in sync(project, anki_path).output
    second, data = media_of(anki_path)
    assert second != first and data == png(2)


def test_several_decks_in_one_sync_and_one_by_name(project, anki_path):
    project.write({**V1, "decks/other.yaml": "name: Other Deck\nid: 1234567891\ncards: [other/*.md]\n",
                   "cards/other/x.md": "## Other?\n<!-- id: other -->\n\nYes.\n"})
    both = sync(project, anki_path).output.splitlines()
    assert both[:3] == ["Other Deck: 1 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 0 untouched",
                        "  note type added: cardsmith Basic",
                        "Test Deck: 6 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 0 untouched"]
    project.write({"cards/other/x.md": "## Other?\n<!-- id: other -->\n\nYes, changed.\n"})
    project.write(V2)
    only = sync(project, anki_path, "other").output.splitlines()
    assert only[0] == "Other Deck: 0 added, 1 updated, 0 moved, 0 deleted, 0 suspended, 0 untouched"
    assert not any(line.startswith("Test Deck") for line in only)
    assert "Gone, never reviewed?" in notes_by_question(anki_path)  # the other deck was left alone


def test_a_note_whose_type_was_changed_in_anki_is_left_alone(project, anki_path):
    from anki.collection import Collection

    project.write(V1)
    sync(project, anki_path)
    col = Collection(str(anki_path))
    nid = col.find_notes('"Front:<p>Keep me?</p>"')[0]
    old = col.models.get(col.get_note(nid).mid)
    col.models.change(old, [nid], col.models.by_name("Basic"), {0: 0, 1: 1}, None)
    col.close()
    project.write(V2)
    result = sync(project, anki_path)
    assert ("  skipped: keep-me at cards/test/a.md:2: its note in Anki has another note type (id "
            in result.output) and "change it back in Anki, or give the card a new id" in result.output
    assert notes_by_question(anki_path)["Keep me?"]["fields"][1] == "<p>Answer one.</p>"
    assert len(notes_by_question(anki_path)) == 5  # nothing duplicated


def test_a_card_the_learner_deleted_is_not_added_back(project, anki_path):
    from anki.collection import Collection

    project.write(V1)
    sync(project, anki_path)
    col = Collection(str(anki_path))
    col.remove_notes(col.find_notes('"Front:<p>Mover?</p>"'))
    col.close()
    result = sync(project, anki_path)
    assert result.output.splitlines()[:2] == [
        "Test Deck: 0 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 6 untouched",
        "  not added: mover was deleted in Anki after a sync put it there (--restore-deleted adds it back)"]
    assert "Mover?" not in notes_by_question(anki_path)
    assert "  not added: mover" in sync(project, anki_path).output  # and still not on the next sync
    back = sync(project, anki_path, "--restore-deleted")
    assert back.output.splitlines()[0].startswith("Test Deck: 1 added")
    assert "Mover?" in notes_by_question(anki_path)


def test_a_record_of_another_collection_is_set_aside(project, anki_path):
    """A new, empty collection where the old one was (a new profile): the record names none of its notes."""
    from anki.collection import Collection

    project.write(V1)
    sync(project, anki_path)
    for leftover in anki_path.parent.iterdir():
        if leftover.is_file():
            leftover.unlink()
    Collection(str(anki_path)).close()
    result = sync(project, anki_path)
    assert result.output.splitlines()[:2] == [
        "Test Deck: 6 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 0 untouched",
        "  the sync record names none of the notes in this collection: it was made for another one (a new "
        "profile, a restored backup?) and is not used"]
    assert sync(project, anki_path).output.splitlines()[-1].endswith("is up to date: nothing to change.")
