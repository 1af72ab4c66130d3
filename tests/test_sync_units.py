"""Issue 15: the parts of sync with logic of their own: finding Anki's profile, comparing note types, tags."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

import pytest

from cardsmith.anki.profiles import anki_base, default_collection, last_profile
from cardsmith.errors import BuildError
from cardsmith.notetypes import FieldSpec, NoteType, TemplateSpec
from cardsmith.commands.syncplan import AnkiNotetype, _tags, compare_notetype


def test_anki_base_on_each_system(tmp_path):
    home = tmp_path / "home"
    assert anki_base({}, "Linux", home) == home / ".local" / "share" / "Anki2"
    assert anki_base({"XDG_DATA_HOME": "/data"}, "Linux", home) == Path("/data/Anki2")
    assert anki_base({}, "Darwin", home) == home / "Library" / "Application Support" / "Anki2"
    assert anki_base({"APPDATA": r"C:\Users\l\AppData\Roaming"}, "Windows", home) == \
        Path(r"C:\Users\l\AppData\Roaming") / "Anki2"
    assert anki_base({"ANKI_BASE": "/elsewhere"}, "Windows", home) == Path("/elsewhere")


def prefs(base: Path, meta: object) -> None:
    """Anki's prefs21.db: one row per profile, `_global` holding the pickled preferences."""
    conn = sqlite3.connect(base / "prefs21.db")
    conn.execute("CREATE TABLE profiles (name TEXT PRIMARY KEY COLLATE NOCASE, data BLOB NOT NULL)")
    conn.execute("INSERT INTO profiles VALUES ('_global', ?)", (pickle.dumps(meta, protocol=4),))
    conn.commit()
    conn.close()


def profile(base: Path, name: str) -> Path:
    (base / name).mkdir(parents=True)
    (base / name / "collection.anki2").write_bytes(b"")
    return base / name / "collection.anki2"


def test_the_only_profile_and_the_last_opened_one(tmp_path):
    base = tmp_path / "Anki2"
    only = profile(base, "User 1")
    assert default_collection(base) == (only, 'profile "User 1", the only profile')
    other = profile(base, "Spanish")
    with pytest.raises(BuildError, match=r"several Anki profiles \(Spanish, User 1\): choose one with --collection"):
        default_collection(base)
    prefs(base, {"last_loaded_profile_name": "Spanish", "defaultLang": "en_US", "created": 1})
    assert default_collection(base) == (other, 'profile "Spanish", the profile Anki opened last')


def test_no_profile(tmp_path):
    with pytest.raises(BuildError, match="no Anki profile with a collection here"):
        default_collection(tmp_path / "missing")


class Hostile:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_hostile_preferences_are_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prefs(tmp_path, {"last_loaded_profile_name": "x", "evil": Hostile()})
    assert last_profile(tmp_path / "prefs21.db") is None
    assert not (tmp_path / "PWNED").exists()


def test_learner_tags_stay_and_shipped_ones_are_replaced_whatever_their_case():
    current = ("Level::Basic", "marked", "mine", "cardsmith::moved")
    assert _tags(current, ("level::advanced",), ("level::basic",)) == ("marked", "mine", "level::advanced")
    assert _tags(("LEVEL::ADVANCED", "mine"), ("level::advanced",), ("level::advanced",)) is None
    assert _tags(("mine",), ("a",), ()) == ("mine", "a")  # no record: nothing is taken for the deck's


def notetype(fields, templates, kind="standard", css="x") -> NoteType:
    front = "{{cloze:%s}}" % fields[0][1] if kind == "cloze" else "{{%s}}" % fields[0][1]
    return NoteType("basic", 7, "Basic", kind, tuple(FieldSpec(n, i) for i, n in fields),
                    tuple(TemplateSpec(n, i, front, "A") for i, n in templates), css)


def anki(fields, templates, cloze=False, css="x") -> AnkiNotetype:
    front = "{{%s}}" % fields[0][1]
    return AnkiNotetype(7, "Basic", cloze, tuple(fields), tuple((i, n, front, "A") for i, n in templates), css)


def test_note_type_changes():
    ours = notetype([(1, "Front"), (2, "Back")], [(10, "Card 1")])
    assert compare_notetype(ours, anki([(1, "Front"), (2, "Back")], [(10, "Card 1")])) is None
    css = compare_notetype(ours, anki([(1, "Front"), (2, "Back")], [(10, "Card 1")], css="old"))
    assert css.schema == () and css.refused == ()
    by_name = compare_notetype(ours, anki([(None, "Front"), (None, "Back")], [(None, "Card 1")]))
    assert by_name is None  # fields added through AnkiConnect have no ids of ours: matched by name
    renamed = compare_notetype(notetype([(1, "Question"), (2, "Back"), (3, "Extra")], [(10, "Card 1"), (11, "Card 2")]),
                               anki([(1, "Front"), (2, "Back")], [(10, "Card 1")]))
    assert renamed.schema == ("renames field 'Front' to 'Question'", "adds field 'Extra'", "adds card template 'Card 2'")
    assert renamed.field_map == (0, 1, None) and renamed.template_map == (0, None)
    reordered = compare_notetype(notetype([(2, "Back"), (1, "Front")], [(10, "Card 1")]),
                                 anki([(1, "Front"), (2, "Back")], [(10, "Card 1")]))
    assert reordered.schema == ("reorders the fields",) and reordered.field_map == (1, 0)
    removed = compare_notetype(notetype([(1, "Front")], [(10, "Card 1")]), anki([(1, "Front"), (2, "Back")],
                                                                              [(10, "Card 1")]))
    assert removed.refused == ("removes field 'Back'",)
    kind = compare_notetype(notetype([(1, "Front"), (2, "Back")], [(10, "Card 1")], kind="cloze"),
                            anki([(1, "Front"), (2, "Back")], [(10, "Card 1")]))
    assert kind.refused == ("a cloze note type and a standard one cannot become each other",)
