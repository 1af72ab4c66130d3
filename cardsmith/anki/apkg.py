"""Reading an Anki package (.apkg) that may be damaged or hostile: every shape is checked, nothing is trusted.

A package is a zip holding a SQLite collection, a JSON media map and numbered media files. The
collection is unpacked within a size limit and opened read-only; its tables, columns and JSON are
checked before use, and any flaw is one BuildError naming it. Media files are read only when a note
uses them, one at a time, within size limits (a zip bomb is refused, never swallowed).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from ..errors import LINE_BREAK_RE, BuildError, Problem

LEGACY_NAMES = ("collection.anki21", "collection.anki2")
MODERN_NAME = "collection.anki21b"
COLLECTION_LIMIT = 2 << 30  # bytes once unpacked
MEDIA_MAP_LIMIT = 64 << 20
MEDIA_FILE_LIMIT = 100 << 20
MEDIA_TOTAL_LIMIT = 2 << 30  # all the media the notes use, together
TEXT_LIMIT = 256 << 20  # the longest text SQLite may hand us (a field, col.models)
MAX_NAME_BYTES = 255  # a file name on common file systems
# What the importer reads: table -> columns.
TABLES = {"col": ("models", "decks"), "notes": ("id", "guid", "mid", "tags", "flds"),
          "cards": ("nid", "did", "ord")}
TAG_SEPARATOR_RE = re.compile("[ \u3000]+")  # what Anki splits a note's tags at (not every space)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError)


@dataclass(frozen=True)
class AnkiNote:
    """One note read from a package."""

    guid: str
    notetype_id: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str


@dataclass(frozen=True)
class AnkiTemplate:
    name: str
    front: str
    back: str
    template_id: int | None


@dataclass(frozen=True)
class AnkiNoteType:
    """A note type from col.models, with the parts the importer writes into templates/."""

    notetype_id: int
    name: str
    cloze: bool
    fields: tuple[tuple[str, int | None], ...]  # (name, id)
    templates: tuple[AnkiTemplate, ...]
    css: str


@dataclass
class AnkiPackage:
    """What an .apkg holds; open it with `open_package` (media are read from it on demand)."""

    shown: str
    notes: list[AnkiNote]
    notetypes: dict[int, AnkiNoteType]
    archive: zipfile.ZipFile
    media: dict[str, str]  # file name -> zip member

    def extract_media(self, name: str, dest: IO[bytes], budget: int) -> int:
        """Copy one media file into `dest` within its limit and the `budget` left; return its size."""
        limit = min(MEDIA_FILE_LIMIT, budget)
        what = (f"media file '{name}' is larger than {_mb(limit)} once unpacked" if limit == MEDIA_FILE_LIMIT
                else f"the media the notes use are larger than {_mb(MEDIA_TOTAL_LIMIT)} together")
        return _copy_member(self.archive, self.media[name], dest, limit, self.shown, what)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):g} MB"


def _error(shown: str, message: str) -> BuildError:
    return BuildError([Problem(shown, 0, message)])


def plain_file_name(name: str) -> bool:
    """A name that is one file in one folder: no path, no `..`, no control character, not too long."""
    return (name not in ("", ".", "..") and "/" not in name and "\\" not in name
            and not LINE_BREAK_RE.search(name) and "\x09" not in name and len(name.encode()) <= MAX_NAME_BYTES)


def _copy_member(archive: zipfile.ZipFile, member: str, dest: IO[bytes], limit: int, shown: str, what: str) -> int:
    """Stream a zip member into `dest`, refusing it as soon as it passes `limit` bytes."""
    size = 0
    try:
        with archive.open(member) as source:
            while chunk := source.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise _error(shown, what)
                dest.write(chunk)
    except ZIP_ERRORS as exc:
        raise _error(shown, f"damaged package: {member}: {exc}")
    return size


@contextmanager
def open_package(path: Path) -> Iterator[AnkiPackage]:
    """Open and check an .apkg; the newer zstd format is first converted with the `anki` package if installed."""
    shown = str(path)
    with tempfile.TemporaryDirectory(prefix="cardsmith-import-") as workdir:
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, *ZIP_ERRORS) as exc:
            raise _error(shown, f"not an Anki package: {getattr(exc, 'strerror', None) or exc}")
        with archive:
            names = set(archive.namelist())
            if MODERN_NAME in names:
                legacy = _convert_modern(path, Path(workdir))
                with open_package(legacy) as converted:
                    converted.shown = shown
                    yield converted
                return
            member = next((name for name in LEGACY_NAMES if name in names), None)
            if member is None:
                raise _error(shown, "not an Anki package: no collection inside")
            db_path = Path(workdir) / "collection.sqlite"
            with db_path.open("wb") as out:
                _copy_member(archive, member, out, COLLECTION_LIMIT, shown,
                             f"the collection is larger than {_mb(COLLECTION_LIMIT)} once unpacked")
            media = _media_map(archive, names, shown)
            notes, notetypes = _read_collection(db_path, shown)
            yield AnkiPackage(shown, notes, notetypes, archive, media)


def _media_map(archive: zipfile.ZipFile, names: set[str], shown: str) -> dict[str, str]:
    """The `media` member: {"0": "file name", …} -> {file name: member}, for members that exist."""
    if "media" not in names:
        return {}
    with tempfile.SpooledTemporaryFile() as buffer:
        _copy_member(archive, "media", buffer, MEDIA_MAP_LIMIT, shown,
                     f"the media map is larger than {_mb(MEDIA_MAP_LIMIT)} once unpacked")
        buffer.seek(0)
        try:
            data = json.loads(buffer.read() or b"{}")
        except ValueError:
            raise _error(shown, "the media map is not valid JSON")
    if not isinstance(data, dict):
        raise _error(shown, "the media map is not a JSON object")
    if not all(isinstance(value, str) for value in data.values()):
        raise _error(shown, "the media map is not a JSON object of file names")
    return {name: member for member, name in data.items() if member in names}


def _convert_modern(path: Path, workdir: Path) -> Path:
    """Import into a scratch collection with the `anki` package and export it in the legacy format.

    Anki unpacks only the media the notes use; they are measured before the re-export.
    """
    try:
        from anki.collection import (Collection, ExportAnkiPackageOptions, ImportAnkiPackageOptions,
                                     ImportAnkiPackageRequest)
        from anki.errors import AnkiException
    except ImportError:
        raise _error(str(path), "this package uses Anki's newer format; export it again with "
                                "'Support older Anki versions' ticked, or `pip install anki` and retry")
    (workdir / "scratch").mkdir()
    col = Collection(str(workdir / "scratch" / "collection.anki2"))
    legacy = workdir / "legacy.apkg"
    try:
        for notetype in col.models.all_names_and_ids():  # so that no imported name gets a '+' suffix
            col.models.remove(notetype.id)
        for notetype in col.models.all_names_and_ids():  # Anki keeps the last one: rename it away
            model = col.models.get(notetype.id)
            model["name"] = "cardsmith scratch note type"
            col.models.update_dict(model)
        col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=False)))
        _check_unpacked_media(Path(col.media.dir()), str(path))
        col.export_anki_package(out_path=str(legacy), limit=None, options=ExportAnkiPackageOptions(
            with_scheduling=False, with_media=True, legacy=True))
    except AnkiException as exc:
        raise _error(str(path), f"not a readable Anki package: {exc}")
    finally:
        col.close()
    return legacy


def _check_unpacked_media(folder: Path, shown: str) -> None:
    total = 0
    for entry in os.scandir(folder):
        size = entry.stat(follow_symlinks=False).st_size
        if size > MEDIA_FILE_LIMIT:
            raise _error(shown, f"media file '{entry.name}' is larger than {_mb(MEDIA_FILE_LIMIT)} once unpacked")
        total += size
    if total > MEDIA_TOTAL_LIMIT:
        raise _error(shown, f"the media the notes use are larger than {_mb(MEDIA_TOTAL_LIMIT)} together")


def _read_collection(db_path: Path, shown: str) -> tuple[list[AnkiNote], dict[int, AnkiNoteType]]:
    """Check and read the collection's note types, decks and notes (opened read-only)."""
    try:
        conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _error(shown, f"the collection is not a readable SQLite database: {exc}")
    try:
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, TEXT_LIMIT)
        conn.execute("PRAGMA trusted_schema = OFF")
        _check_tables(conn, shown)
        row = conn.execute("SELECT models, decks FROM col").fetchone()
        if row is None:
            raise _error(shown, "the collection's table 'col' has no row")
        notetypes = _notetypes(_json_object(row[0], "col.models", shown), shown)
        decks = _decks(_json_object(row[1], "col.decks", shown), shown)
        # Each note's deck is its first card's (a linear scan: SQLite takes `did` from the min(ord) row).
        first_deck = {nid: did for nid, did, _ in conn.execute("SELECT nid, did, min(ord) FROM cards GROUP BY nid")}
        notes = [_note(row, notetypes, decks, first_deck, shown)
                 for row in conn.execute("SELECT id, guid, mid, flds, tags FROM notes ORDER BY id")]
    except sqlite3.DatabaseError as exc:
        raise _error(shown, f"the collection is not a readable SQLite database: {exc}")
    finally:
        conn.close()
    return notes, notetypes


def _check_tables(conn: sqlite3.Connection, shown: str) -> None:
    """The tables the importer reads exist, are plain tables, and have plain (not generated) columns."""
    kinds = dict(conn.execute("SELECT name, type FROM sqlite_master"))
    for table, columns in TABLES.items():
        if kinds.get(table) != "table":
            raise _error(shown, f"the collection has no table '{table}' (not an Anki collection)")
        found = {name: hidden for _, name, _, _, _, _, hidden in conn.execute(f"PRAGMA table_xinfo({table})")}
        for column in columns:
            if column not in found:
                raise _error(shown, f"the collection's table '{table}' has no column '{column}'")
            if found[column]:
                raise _error(shown, f"the collection's column '{table}.{column}' is computed (not an Anki collection)")


def _json_object(text: object, what: str, shown: str) -> dict:
    try:
        data = json.loads(text) if isinstance(text, (str, bytes)) else None
    except (ValueError, RecursionError):
        raise _error(shown, f"{what} is not valid JSON")
    if not isinstance(data, dict):
        raise _error(shown, f"{what} is not a JSON object")
    return data


def _int_key(key: str, what: str, shown: str) -> int:
    try:
        value = int(key)
    except ValueError:
        value = 0
    if not 0 < value < 1 << 63:
        raise _error(shown, f"{what} '{key}' in col.{'models' if 'note type' in what else 'decks'}: "
                            "its id must be a number")
    return value


def _notetypes(models: dict, shown: str) -> dict[int, AnkiNoteType]:
    result = {}
    for key, model in models.items():
        notetype_id = _int_key(key, "note type", shown)

        def bad(message: str) -> BuildError:
            return _error(shown, f"note type {key} in col.models: {message}")

        if not isinstance(model, dict):
            raise bad("not a JSON object")
        name, css = model.get("name"), model.get("css", "")
        if not isinstance(name, str) or not name.strip():
            raise bad("'name' must be a non-empty string")
        if not isinstance(css, str):
            raise bad("'css' must be a string")
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
            tuple((f["name"], _optional_id(f)) for f in fields),
            tuple(AnkiTemplate(t["name"], t["qfmt"], t["afmt"], _optional_id(t)) for t in templates), css)
    return result


def _optional_id(item: dict) -> int | None:
    """A field's or template's id (Anki's are random signed 64-bit integers), or None."""
    value = item.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) and value and -1 << 63 <= value < 1 << 63 \
        else None


def _decks(decks: dict, shown: str) -> dict[int, str]:
    result = {}
    for key, deck in decks.items():
        deck_id = _int_key(key, "deck", shown)
        if not isinstance(deck, dict) or not isinstance(deck.get("name"), str):
            raise _error(shown, f"deck {key} in col.decks: 'name' must be a string")
        result[deck_id] = deck["name"]
    return result


def _note(row: tuple, notetypes: dict[int, AnkiNoteType], decks: dict[int, str], first_deck: dict,
          shown: str) -> AnkiNote:
    nid, guid, mid, fields, tags = row
    label = guid if isinstance(guid, str) else nid
    if not isinstance(guid, str):
        raise _error(shown, f"note {nid}: its GUID is not text")
    if not isinstance(fields, str):
        raise _error(shown, f"note {label}: its fields are not text")
    if not isinstance(tags, str):
        raise _error(shown, f"note {label}: its tags are not text")
    notetype = notetypes.get(mid) if isinstance(mid, int) else None
    if notetype is None:
        raise _error(shown, f"note {label} has note type {mid}, which is not in col.models")
    values = tuple(fields.split("\x1f"))
    if len(values) != len(notetype.fields):
        raise _error(shown, f"note {label} has {len(values)} fields, its note type '{notetype.name}' "
                            f"has {len(notetype.fields)}")
    tag_list = tuple(tag for tag in TAG_SEPARATOR_RE.split(tags) if tag)
    return AnkiNote(guid, mid, values, tag_list, decks.get(first_deck.get(nid, 1), "Default"))
