"""The package writer writes the rows genanki's own Note.write_to_db would write, with the cards Anki makes
(cardgen.py: where genanki's own rule differs, Anki's)."""

from __future__ import annotations

import itertools
import sqlite3
import warnings
from pathlib import Path

import genanki
from genanki.apkg_schema import APKG_SCHEMA

from cardsmith.notetypes import load_notetypes
from cardsmith.package import NoteSpec, _card_rows, _note_rows

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


def spec(guid, notetype, fields, tags, deck, mod) -> NoteSpec:
    """A note with the cards cardgen gives it (those Anki makes)."""
    return NoteSpec(guid, notetype, fields, tags, deck, mod, NOTETYPES[notetype].rule.cards(fields, bool(tags)))


NOTETYPES = load_notetypes(REPO)


def test_rows_match_genanki_for_every_note_type_and_card_shape():
    models = {key: genanki_model(key) for key in ("basic", "basic-reversed", "cloze")}
    notes = [
        spec("g1", "basic", ("<p>Q</p>", "<p>A</p>"), ("a", "b::c"), "Deck", 1700000000),
        spec("g2", "basic-reversed", ("<p>Q</p>", "<p>A</p>"), (), "Deck::Sub", 1700000001),
        spec("g3", "basic-reversed", ("<p>Q</p>", ""), ("x",), "Deck", 1700000002),  # no reverse card
        spec("g4", "cloze", ("{{c1::a}} {{c3::b}} {{c10::c}} {{c3::d}}", "extra"), (), "Deck", 1700000003),
        spec("g6", "cloze", ("{{c0::zero}} {{c2::two\nlines}}", ""), (), "Deck", 1700000005),
    ]
    ours_notes = list(_note_rows(notes, NOTETYPES, 5000))
    ours_cards = list(_card_rows(notes, DECK_IDS, 5000))
    theirs_notes, theirs_cards = genanki_rows(notes, models, 5000)
    assert ours_notes == theirs_notes
    assert without_ids(ours_cards) == without_ids(theirs_cards)
    assert len(theirs_cards) == 1 + 2 + 1 + 3 + 1  # the shapes above really differ


def without_ids(cards: list[tuple]) -> list[tuple]:
    """Card rows without their ids, which only number a package's cards (Anki gives its own): genanki lists a
    note's cloze cards in the order of a Python set, the package by ordinal."""
    return sorted(row[1:] for row in cards)


def test_a_note_without_cards_gets_card_1_as_in_anki():
    """genanki writes no card for these; Anki gives such a note card 1 (tests/test_cardgen.py): so does the package."""
    notes = [spec("g5", "cloze", ("no deletion", ""), (), "Deck::Sub", 1700000004),
             spec("g7", "basic", ("", "<p>A</p>"), (), "Deck", 1700000006)]
    assert [n.cards for n in notes] == [(0,), (0,)]
    assert [row[3] for row in _card_rows(notes, DECK_IDS, 5000)] == [0, 0]


def genanki_model(key: str) -> genanki.Model:
    """The note type as genanki would write it (the package did before cardsmith wrote its own JSON)."""
    nt = NOTETYPES[key]
    return genanki.Model(nt.model_id, nt.name, fields=[{"name": f.name, "id": f.id, "font": f.font} for f in nt.fields],
                         templates=[{"name": t.name, "id": t.id, "qfmt": t.front, "afmt": t.back} for t in nt.templates],
                         css=nt.css, model_type=genanki.Model.CLOZE if nt.is_cloze else genanki.Model.FRONT_BACK)


def test_notetype_json_is_genankis():
    from cardsmith.package import notetype_json

    for key in ("basic", "basic-reversed", "cloze"):
        assert notetype_json(NOTETYPES[key], 1700000000, 11) == genanki_model(key).to_json(1700000000, 11)


def test_rows_match_genanki_for_the_shipped_deck():
    from cardsmith.pipeline import Project

    project = Project(REPO, cache=False)
    deck = project.decks[0]
    build = project.prepare(deck)
    assert not build.errors
    models = {key: genanki_model(key) for key in project.notetypes}
    notes = [spec(n.guid, n.note_type, n.fields, n.tags, "Deck::Sub" if i % 2 else "Deck", 1700000000 + i)
             for i, n in enumerate(build.notes)]
    assert [n.cards for n in notes] == [n.cards for n in build.notes]
    assert len(notes) > 300
    theirs_notes, theirs_cards = genanki_rows(notes, models, 10 ** 12)
    assert list(_note_rows(notes, NOTETYPES, 10 ** 12)) == theirs_notes
    assert sorted(_card_rows(notes, DECK_IDS, 10 ** 12)) == theirs_cards  # the deck's cloze numbers are in order


def test_package_is_deflated_with_isal_and_reads_back(tmp_path: Path, monkeypatch):
    import zipfile

    from isal import isal_zlib

    from cardsmith import package

    made = []
    original = isal_zlib.compressobj
    monkeypatch.setattr(package.isal_zlib, "compressobj", lambda *a: made.append(a) or original(*a))
    notetypes = load_notetypes(REPO)
    notes = [NoteSpec(f"g{i}", "basic", (f"<p>Question {i} " + "x" * 200 + "</p>", "<p>A</p>"), (), "Deck", 1700000000,
                      (0,)) for i in range(300)]
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
