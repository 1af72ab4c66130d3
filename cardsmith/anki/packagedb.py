"""A package's collection (SQLite) -> its notes, note types and decks, in either schema Anki writes.

Schema 11 (`collection.anki2`, `collection.anki21`: legacy packages) keeps note types and decks as JSON
in the `col` table; schema 18 (`collection.anki21b`: the newer packages) keeps them in tables of their
own, their options as protobuf messages (read here by a small decoder: the field numbers are those of
Anki's notetypes.proto and decks.proto). The file may be hostile: it is opened read-only, its tables
and columns are checked, every value's type is checked, and any flaw is one BuildError naming it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import BuildError, Problem

TEXT_LIMIT = 256 << 20  # the longest text SQLite may hand us (a field, col.models)
# What is read: table -> columns (both schemas), and the tables only one schema has.
TABLES = {"notes": ("id", "guid", "mid", "mod", "tags", "flds"), "cards": ("nid", "did", "ord")}
LEGACY_TABLES = {"col": ("models", "decks")}
MODERN_TABLES = {"notetypes": ("id", "name", "mtime_secs", "config"), "fields": ("ntid", "ord", "name", "config"),
                 "templates": ("ntid", "ord", "name", "config"), "decks": ("id", "name", "kind")}
TAG_SEPARATOR_RE = re.compile("[ \u3000]+")  # what Anki splits a note's tags at (not every space)
U64 = 1 << 64


@dataclass(frozen=True)
class AnkiField:
    """A field of a note type, with Anki's options for it (its defaults when the package says nothing)."""

    name: str
    field_id: int | None
    font: str = "Arial"
    size: int = 20
    rtl: bool = False
    description: str = ""
    plain_text: bool = False  # the editor opens it as HTML
    collapsed: bool = False
    exclude_from_search: bool = False
    sticky: bool = False  # keeps its last input when adding


@dataclass(frozen=True)
class AnkiTemplate:
    name: str
    front: str
    back: str
    template_id: int | None
    browser_front: str = ""  # the browser's columns (empty: the card's own sides)
    browser_back: str = ""
    browser_font: str = ""
    browser_size: int = 0


@dataclass(frozen=True)
class AnkiNoteType:
    """A note type as the package stores it: everything Anki keeps of it."""

    notetype_id: int
    name: str
    cloze: bool
    fields: tuple[AnkiField, ...]
    templates: tuple[AnkiTemplate, ...]
    css: str
    mod: int = 0
    sort_field: int = 0
    latex_pre: str | None = None  # None: not in the package (Anki's default)
    latex_post: str | None = None
    latex_svg: bool = False
    stock_kind: int = 0  # Anki's originalStockKind (which stock note type it was made from; 6: Image Occlusion)


@dataclass(frozen=True)
class AnkiNote:
    """One note read from a package."""

    note_id: int
    guid: str
    notetype_id: int
    mod: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str  # its first card's deck (its home deck when the card is in a filtered deck)
    other_decks: tuple[str, ...] = ()  # the decks of its other cards, where they differ


@dataclass(frozen=True)
class AnkiCollection:
    notes: list[AnkiNote]
    notetypes: dict[int, AnkiNoteType]
    decks: dict[int, tuple[str, str]]  # id -> (full name with `::`, description)


def error(shown: str, message: str) -> BuildError:
    return BuildError([Problem(shown, 0, message)])


def read_collection(db_path: Path, shown: str) -> AnkiCollection:
    """Check and read a package's collection (opened read-only), in either schema."""
    try:
        conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise error(shown, f"the collection is not a readable SQLite database: {exc}")
    try:
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, TEXT_LIMIT)
        conn.execute("PRAGMA trusted_schema = OFF")
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master"))
        modern = kinds.get("notetypes") == "table"
        columns = _check_tables(conn, kinds, {**TABLES, **(MODERN_TABLES if modern else LEGACY_TABLES)}, shown)
        if modern:
            notetypes, decks = _modern_notetypes(conn, shown), _modern_decks(conn, shown)
        else:
            row = conn.execute("SELECT models, decks FROM col").fetchone()
            if row is None:
                raise error(shown, "the collection's table 'col' has no row")
            notetypes = _legacy_notetypes(_json_object(row[0], "col.models", shown), shown)
            decks = _legacy_decks(_json_object(row[1], "col.decks", shown), shown)
        home = "CASE WHEN odid THEN odid ELSE did END" if "odid" in columns["cards"] else "did"
        card_decks: dict[int, list[int]] = {}
        for nid, did in conn.execute(f"SELECT nid, {home} FROM cards ORDER BY nid, ord"):
            card_decks.setdefault(nid, []).append(did)
        notes = [_note(row, notetypes, decks, card_decks, shown)
                 for row in conn.execute("SELECT id, guid, mid, mod, flds, tags FROM notes ORDER BY id")]
    except sqlite3.DatabaseError as exc:
        raise error(shown, f"the collection is not a readable SQLite database: {exc}")
    finally:
        conn.close()
    return AnkiCollection(notes, notetypes, decks)


def _check_tables(conn: sqlite3.Connection, kinds: dict, tables: dict[str, tuple[str, ...]],
                  shown: str) -> dict[str, set[str]]:
    """The tables read exist, are plain tables, and have plain (not generated) columns; return their columns."""
    found_columns = {}
    for table, columns in tables.items():
        if kinds.get(table) != "table":
            raise error(shown, f"the collection has no table '{table}' (not an Anki collection)")
        found = {name: hidden for _, name, _, _, _, _, hidden in conn.execute(f"PRAGMA table_xinfo({table})")}
        for column in columns:
            if column not in found:
                raise error(shown, f"the collection's table '{table}' has no column '{column}'")
            if found[column]:
                raise error(shown, f"the collection's column '{table}.{column}' is computed (not an Anki collection)")
        found_columns[table] = {name for name, hidden in found.items() if not hidden}
    return found_columns


def _json_object(text: object, what: str, shown: str) -> dict:
    try:
        data = json.loads(text) if isinstance(text, (str, bytes)) else None
    except (ValueError, RecursionError):
        raise error(shown, f"{what} is not valid JSON")
    if not isinstance(data, dict):
        raise error(shown, f"{what} is not a JSON object")
    try:  # JSON may escape half of a UTF-16 pair (`\ud800`): no file holds it, and Anki refuses it too
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise error(shown, f"{what} holds text that is not Unicode (half of a UTF-16 pair)")
    return data


def _positive_id(key: object, what: str, where: str, shown: str) -> int:
    try:
        value = int(key)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        value = 0
    if not 0 < value < 1 << 63:
        raise error(shown, f"{what} '{key}' in {where}: its id must be a number")
    return value


def _optional_id(value: object) -> int | None:
    """A field's or template's id (Anki's are random signed 64-bit integers), or None."""
    return value if type(value) is int and value and -1 << 63 <= value < 1 << 63 else None


def _typed(data: dict, key: str, kind: type, default: Any, bad: Callable[[str], BuildError]) -> Any:
    """data[key] if of type `kind` (a bool is no int), `default` when absent or null; else BuildError."""
    value = data.get(key)
    if value is None:
        return default
    if type(value) is not kind:
        raise bad(f"'{key}' must be {'a number' if kind is int else 'text' if kind is str else 'true or false'}")
    return value


# Schema 11: JSON in `col` ---------------------------------------------------------------------------------------

def _legacy_notetypes(models: dict, shown: str) -> dict[int, AnkiNoteType]:
    result = {}
    for key, model in models.items():
        notetype_id = _positive_id(key, "note type", "col.models", shown)

        def bad(message: str) -> BuildError:
            return error(shown, f"note type {key} in col.models: {message}")

        if not isinstance(model, dict):
            raise bad("not a JSON object")
        name = model.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("'name' must be a non-empty string")
        fields, templates = model.get("flds"), model.get("tmpls")
        if not isinstance(fields, list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str)
                                                   for f in fields):
            raise bad("'flds' must be a list of fields with names")
        if not isinstance(templates, list) or not all(
                isinstance(t, dict) and all(isinstance(t.get(k), str) for k in ("name", "qfmt", "afmt"))
                for t in templates):
            raise bad("'tmpls' must be a list of templates with 'name', 'qfmt' and 'afmt'")
        result[notetype_id] = AnkiNoteType(
            notetype_id, name.strip(), model.get("type") == 1,
            tuple(AnkiField(f["name"], _optional_id(f.get("id")), _typed(f, "font", str, "Arial", bad),
                            _typed(f, "size", int, 20, bad), _typed(f, "rtl", bool, False, bad),
                            _typed(f, "description", str, "", bad), _typed(f, "plainText", bool, False, bad),
                            _typed(f, "collapsed", bool, False, bad), _typed(f, "excludeFromSearch", bool, False, bad),
                            _typed(f, "sticky", bool, False, bad)) for f in fields),
            tuple(AnkiTemplate(t["name"], t["qfmt"], t["afmt"], _optional_id(t.get("id")),
                               _typed(t, "bqfmt", str, "", bad), _typed(t, "bafmt", str, "", bad),
                               _typed(t, "bfont", str, "", bad), _typed(t, "bsize", int, 0, bad)) for t in templates),
            _typed(model, "css", str, "", bad), max(0, _typed(model, "mod", int, 0, bad)),
            _typed(model, "sortf", int, 0, bad), _typed(model, "latexPre", str, None, bad),
            _typed(model, "latexPost", str, None, bad), _typed(model, "latexsvg", bool, False, bad),
            _typed(model, "originalStockKind", int, 0, bad))
    return result


def _legacy_decks(decks: dict, shown: str) -> dict[int, tuple[str, str]]:
    result = {}
    for key, deck in decks.items():
        deck_id = _positive_id(key, "deck", "col.decks", shown)
        if not isinstance(deck, dict) or not isinstance(deck.get("name"), str):
            raise error(shown, f"deck {key} in col.decks: 'name' must be a string")
        description = deck.get("desc")
        result[deck_id] = (deck["name"], description if isinstance(description, str) else "")
    return result


# Schema 18: tables, with options as protobuf --------------------------------------------------------------------

def _protobuf(data: object, what: str, shown: str) -> dict[int, list[int | bytes]]:
    """A protobuf message: field number -> its values (varints as unsigned ints, the rest as bytes)."""
    if data is None:
        data = b""
    if not isinstance(data, bytes):
        raise error(shown, f"{what}: its options are not a protobuf message")
    fields: dict[int, list[int | bytes]] = {}
    position, end = 0, len(data)

    def varint() -> int:
        nonlocal position
        value = shift = 0
        while True:
            if position >= end or shift > 63:
                raise error(shown, f"{what}: its options are not a valid protobuf message")
            byte = data[position]  # type: ignore[index]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while position < end:
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: int | bytes = varint()
        elif wire in (1, 2, 5):
            size = varint() if wire == 2 else 8 if wire == 1 else 4
            if position + size > end:
                raise error(shown, f"{what}: its options are not a valid protobuf message")
            value = data[position:position + size]  # type: ignore[index]
            position += size
        else:
            raise error(shown, f"{what}: its options are not a valid protobuf message")
        fields.setdefault(number, []).append(value)
    return fields


class _Message:
    """Typed reads of a decoded protobuf message (the last value of a field wins, as in protobuf)."""

    def __init__(self, data: object, what: str, shown: str):
        self.fields, self.what, self.shown = _protobuf(data, what, shown), what, shown

    def _last(self, number: int, kind: type) -> Any:
        values = self.fields.get(number)
        if not values:
            return None
        if not isinstance(values[-1], kind):
            raise error(self.shown, f"{self.what}: option {number} of its protobuf message has the wrong type")
        return values[-1]

    def text(self, number: int, default: str | None = "") -> str | None:
        value = self._last(number, bytes)
        if value is None:
            return default
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise error(self.shown, f"{self.what}: option {number} of its protobuf message is not UTF-8 text")

    def number(self, number: int, signed: bool = False) -> int:
        value = self._last(number, int) or 0
        return value - U64 if signed and value >= 1 << 63 else value

    def flag(self, number: int) -> bool:
        return bool(self._last(number, int))

    def message(self, number: int) -> "_Message":
        return _Message(self._last(number, bytes) or b"", self.what, self.shown)


def _text_column(value: object, what: str, shown: str) -> str:
    if not isinstance(value, str):
        raise error(shown, f"{what} is not text")
    return value


def _modern_notetypes(conn: sqlite3.Connection, shown: str) -> dict[int, AnkiNoteType]:
    """notetypes, fields and templates (Notetype.Config, Notetype.Field.Config, Notetype.Template.Config)."""
    fields: dict[int, list[AnkiField]] = {}
    for ntid, _, name, config in conn.execute("SELECT ntid, ord, name, config FROM fields ORDER BY ntid, ord"):
        what = f"a field of note type {ntid}"
        options = _Message(config, what, shown)
        fields.setdefault(ntid, []).append(AnkiField(
            _text_column(name, what + ": its name", shown), options.number(9, signed=True) or None,
            options.text(3) or "", options.number(4), options.flag(2), options.text(5) or "",
            options.flag(6), options.flag(7), options.flag(8), options.flag(1)))
    templates: dict[int, list[AnkiTemplate]] = {}
    for ntid, _, name, config in conn.execute("SELECT ntid, ord, name, config FROM templates ORDER BY ntid, ord"):
        what = f"a card template of note type {ntid}"
        options = _Message(config, what, shown)
        templates.setdefault(ntid, []).append(AnkiTemplate(
            _text_column(name, what + ": its name", shown), options.text(1) or "", options.text(2) or "",
            options.number(8, signed=True) or None, options.text(3) or "", options.text(4) or "",
            options.text(6) or "", options.number(7)))
    result = {}
    for ntid, name, mtime, config in conn.execute("SELECT id, name, mtime_secs, config FROM notetypes"):
        notetype_id = _positive_id(ntid, "note type", "the table notetypes", shown)
        what = f"note type {ntid}"
        options = _Message(config, what, shown)
        name = _text_column(name, what + ": its name", shown)
        if not name.strip():
            raise error(shown, f"{what}: its name is empty")
        result[notetype_id] = AnkiNoteType(
            notetype_id, name.strip(), options.number(1) == 1, tuple(fields.get(ntid, ())),
            tuple(templates.get(ntid, ())), options.text(3) or "", max(0, mtime if type(mtime) is int else 0),
            options.number(2), options.text(5, None), options.text(6, None), options.flag(7), options.number(9))
    return result


def _modern_decks(conn: sqlite3.Connection, shown: str) -> dict[int, tuple[str, str]]:
    """decks: names with `\\x1f` between levels; a normal deck's description is in Deck.KindContainer.normal."""
    result = {}
    for deck_id, name, kind in conn.execute("SELECT id, name, kind FROM decks"):
        deck_id = _positive_id(deck_id, "deck", "the table decks", shown)
        what = f"deck {deck_id}"
        name = _text_column(name, what + ": its name", shown)
        description = _Message(kind, what, shown).message(1).text(4) or ""
        result[deck_id] = (name.replace("\x1f", "::"), description)
    return result


# Notes ----------------------------------------------------------------------------------------------------------

def _note(row: tuple, notetypes: dict[int, AnkiNoteType], decks: dict[int, tuple[str, str]],
          card_decks: dict[int, list[int]], shown: str) -> AnkiNote:
    nid, guid, mid, mod, fields, tags = row
    label = guid if isinstance(guid, str) else nid
    if not isinstance(guid, str):
        raise error(shown, f"note {nid}: its GUID is not text")
    if not isinstance(fields, str):
        raise error(shown, f"note {label}: its fields are not text")
    if not isinstance(tags, str):
        raise error(shown, f"note {label}: its tags are not text")
    notetype = notetypes.get(mid) if isinstance(mid, int) else None
    if notetype is None:
        raise error(shown, f"note {label} has note type {mid}, which is not in the collection")
    values = tuple(fields.split("\x1f"))
    if len(values) != len(notetype.fields):
        raise error(shown, f"note {label} has {len(values)} fields, its note type '{notetype.name}' "
                           f"has {len(notetype.fields)}")
    tag_list = tuple(tag for tag in TAG_SEPARATOR_RE.split(tags) if tag)
    names = [decks[did][0] if did in decks else "Default" for did in card_decks.get(nid, [1])]
    others = tuple(sorted(set(names) - {names[0]}))
    return AnkiNote(nid if type(nid) is int else 0, guid, mid, mod if type(mod) is int else 0, values, tag_list,
                    names[0], others)
