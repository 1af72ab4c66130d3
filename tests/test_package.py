"""The package writer writes the rows genanki's own Note.write_to_db would write."""

from __future__ import annotations

import itertools
import sqlite3
import warnings
from pathlib import Path

import genanki
from genanki.apkg_schema import APKG_SCHEMA

from cardsmith.notetypes import load_notetypes
from cardsmith.package import NoteSpec, _card_rows, _cards_per_note, _note_rows

REPO = Path(__file__).resolve().parent.parent

DECK_IDS = {"Deck": 11, "Deck::Sub": 12}


def genanki_rows(notes: list[NoteSpec], models: dict[str, genanki.Model], first_id: int) -> tuple[list, list]:
    conn = sqlite3.connect(":memory:")
    conn.executescript(APKG_SCHEMA)
    ids = itertools.count(first_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for position, spec in enumerate(notes):
            note = genanki.Note(models[spec.notetype], list(spec.fields), tags=list(spec.tags), guid=spec.guid,
                                due=position)
            note.write_to_db(conn.cursor(), spec.mod, DECK_IDS[spec.deck], ids)
    return (conn.execute("SELECT * FROM notes ORDER BY id").fetchall(),
            conn.execute("SELECT * FROM cards ORDER BY id").fetchall())


def test_rows_match_genanki_for_every_note_type_and_card_shape():
    notetypes = load_notetypes(REPO)
    models = {key: notetypes[key].to_model() for key in ("basic", "basic-reversed", "cloze")}
    notes = [
        NoteSpec("g1", "basic", ("<p>Q</p>", "<p>A</p>"), ("a", "b::c"), "Deck", 1700000000),
        NoteSpec("g2", "basic-reversed", ("<p>Q</p>", "<p>A</p>"), (), "Deck::Sub", 1700000001),
        NoteSpec("g3", "basic-reversed", ("<p>Q</p>", ""), ("x",), "Deck", 1700000002),  # no reverse card
        NoteSpec("g4", "cloze", ("{{c1::a}} {{c3::b}} {{c10::c}} {{c3::d}}", "extra"), (), "Deck", 1700000003),
        NoteSpec("g5", "cloze", ("no deletion", ""), (), "Deck::Sub", 1700000004),  # genanki: no card
        NoteSpec("g6", "cloze", ("{{c0::zero}} {{c2::two\nlines}}", ""), (), "Deck", 1700000005),
        NoteSpec("g7", "basic", ("", "<p>A</p>"), (), "Deck", 1700000006),  # empty front: no card
    ]
    cards = _cards_per_note(notes, models)
    ours_notes = list(_note_rows(notes, models, cards, 5000))
    ours_cards = list(_card_rows(notes, cards, DECK_IDS, 5000))
    theirs_notes, theirs_cards = genanki_rows(notes, models, 5000)
    assert ours_notes == theirs_notes
    assert sorted(ours_cards) == theirs_cards
    assert len(theirs_cards) == 1 + 2 + 1 + 3 + 0 + 1 + 0  # the shapes above really differ


def test_rows_match_genanki_for_the_shipped_deck():
    from cardsmith.pipeline import Project

    project = Project(REPO, cache=False)
    deck = project.decks[0]
    build, problems = project.prepare(deck)
    assert not [p for p in problems if p.severity == "error"]
    models = {key: nt.to_model() for key, nt in project.notetypes.items()}
    notes = [NoteSpec(project.guid(deck, c.source), c.source.note_type, c.fields, c.source.tags,
                      "Deck::Sub" if i % 2 else "Deck", 1700000000 + i)
             for i, c in enumerate(build.cards)]
    assert len(notes) > 300
    theirs_notes, theirs_cards = genanki_rows(notes, models, 10 ** 12)
    cards = _cards_per_note(notes, models)
    assert list(_note_rows(notes, models, cards, 10 ** 12)) == theirs_notes
    assert sorted(_card_rows(notes, cards, DECK_IDS, 10 ** 12)) == theirs_cards


def test_package_is_deflated_with_isal_and_reads_back(tmp_path: Path, monkeypatch):
    import zipfile

    from isal import isal_zlib

    from cardsmith import package

    made = []
    original = isal_zlib.compressobj
    monkeypatch.setattr(package.isal_zlib, "compressobj", lambda *a: made.append(a) or original(*a))
    notetypes = load_notetypes(REPO)
    notes = [NoteSpec(f"g{i}", "basic", (f"<p>Question {i} " + "x" * 200 + "</p>", "<p>A</p>"), (), "Deck", 1700000000)
             for i in range(300)]
    out = tmp_path / "deck.apkg"
    package.write_package(out, 11, "Deck", "", notes, notetypes, {"basic": 1700000000}, {})
    assert made and all(a == (package.ZIP_LEVEL, isal_zlib.DEFLATED, -15) for a in made)
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None  # every entry's CRC checks out
        info = archive.getinfo("collection.anki2")
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < info.file_size / 4
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(tmp_path / "c.anki2")
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 300
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")} >= {
        "ix_cards_nid", "ix_cards_sched", "ix_notes_usn"}
