"""A release's notes -> dist/<deck>.apkg (stage 6): genanki's collection schema, the note types as Anki stores
them, each note with the cards cardgen says Anki makes, written so that the same input gives the same
bytes (fixed ids, times, zip entry dates and media order), and atomically (a failed build leaves the
previous package in place)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from pathlib import Path
from typing import IO, Iterator, NamedTuple

import genanki
from isal import isal_zlib
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from .files import remove_stale, temp_for, umask
from .notetypes import NoteType

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 2  # ISA-L's levels go from 0 to 3; 2 is about zlib 6's size at a twentieth of its time


class NoteSpec(NamedTuple):
    """One note as it goes into the package (a tuple: there is one per card of a large deck)."""

    guid: str
    notetype: str  # key of a NoteType
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str      # full deck name
    mod: int
    cards: tuple[int, ...]  # the template ordinals of its cards (cardgen: those Anki makes)


def deck_id_for(root_id: int, root_name: str, name: str) -> int:
    """Subdecks get ids derived from the root deck's fixed id (Anki matches decks by name)."""
    if name == root_name:
        return root_id
    digest = hashlib.sha256(f"{root_id}\x1f{name}".encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:8], "big") % (1 << 40)


def write_package(path: Path, root_id: int, root_name: str, description: str, notes: list[NoteSpec],
                  notetypes: dict[str, NoteType], notetype_mods: dict[str, int], media: dict[str, Path]) -> None:
    """Write the package to `path` atomically.

    The collection and the archive are built in temporary files next to `path` (see files.py): a
    killed build leaves the previous package as it was, and the next build removes the leftovers.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    db_path, tmp = temp_for(path), temp_for(path)
    try:
        _write_collection(db_path, root_id, root_name, description, notes, notetypes, notetype_mods)
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            _add_file(archive, "collection.anki2", db_path)
            names = sorted(media)
            _add(archive, "media", json.dumps({str(i): n for i, n in enumerate(names)}).encode())
            for index, name in enumerate(names):
                _add_file(archive, str(index), media[name])
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    finally:
        for name in (db_path, tmp):
            if os.path.exists(name):
                os.unlink(name)


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date and mode: the archive does not depend on when it was built."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    with archive.open(_entry(name), "w") as target:
        _use_isal(target)
        target.write(data)


def _add_file(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    """Stream a file into the archive (the collection can be hundreds of MB)."""
    with path.open("rb") as source, archive.open(_entry(name), "w") as target:
        _use_isal(target)
        shutil.copyfileobj(source, target, 1 << 20)


def _use_isal(target: IO[bytes]) -> None:
    """Deflate with ISA-L instead of zlib: six times faster than zlib's fastest level, and smaller.

    zipfile has no public way to choose the compressor; the entry writer calls compress() and
    flush() on a zlib-compatible object, which isal_zlib.compressobj is (same raw deflate format).
    """
    if getattr(target, "_compressor", None) is None:
        raise RuntimeError("zipfile changed: its entry writer has no _compressor to replace")
    target._compressor = isal_zlib.compressobj(ZIP_LEVEL, isal_zlib.DEFLATED, -15)  # type: ignore[attr-defined]


def notetype_json(notetype: NoteType, mod: int, deck_id: int) -> dict:
    """A note type as a collection's `col.models` stores it (the JSON genanki writes, with Anki's options)."""
    fields = []
    for ord_, spec in enumerate(notetype.fields):
        item = {"name": spec.name, "id": spec.id, "ord": ord_, "font": spec.font, "media": [], "rtl": spec.rtl,
                "size": spec.size, "sticky": spec.sticky}
        if spec.description:
            item["description"] = spec.description
        for key, value in (("plainText", spec.plain_text), ("collapsed", spec.collapsed),
                           ("excludeFromSearch", spec.exclude_from_search)):
            if value:  # only then: the package of a note type without them stays what it was
                item[key] = value
        fields.append(item)
    templates = [{"name": t.name, "id": t.id, "qfmt": t.front, "afmt": t.back, "ord": ord_, "bafmt": t.browser_back,
                  "bqfmt": t.browser_front, "bfont": t.browser_font, "bsize": t.browser_size, "did": None}
                 for ord_, t in enumerate(notetype.templates)]
    found = {"css": notetype.css, "did": deck_id, "flds": fields, "id": str(notetype.model_id),
             "latexPost": notetype.latex.postamble, "latexPre": notetype.latex.preamble, "latexsvg": notetype.latex.svg,
             "mod": mod, "name": notetype.name, "req": _legacy_req(notetype), "sortf": notetype.sort_field, "tags": [],
             "tmpls": templates, "type": 1 if notetype.is_cloze else 0, "usn": -1, "vers": []}
    if notetype.stock_kind:
        found["originalStockKind"] = notetype.stock_kind
    return found


def _legacy_req(notetype: NoteType) -> list:
    """The `req` list older Anki versions read (today's Anki makes cards by cardgen's rule and ignores it):
    genanki's, so that a package is the one earlier releases wrote; none where genanki cannot say."""
    model = genanki.Model(notetype.model_id, notetype.name, fields=[{"name": f.name} for f in notetype.fields],
                          templates=[{"name": t.name, "qfmt": t.front, "afmt": t.back} for t in notetype.templates])
    try:
        return model._req
    except Exception:  # genanki's renderer cannot read the template (e.g. only {{type:X}}): Anki does not mind
        return [[ord_, "none", []] for ord_ in range(len(notetype.templates))]


def _note_rows(notes: list[NoteSpec], notetypes: dict[str, NoteType], first_id: int) -> Iterator[tuple]:
    """The `notes` rows genanki's Note.write_to_db writes (no checksum)."""
    next_id = first_id
    for spec in notes:
        notetype = notetypes[spec.notetype]
        yield (next_id, spec.guid, notetype.model_id, spec.mod, -1, " " + " ".join(spec.tags) + " ",
               "\x1f".join(spec.fields), spec.fields[notetype.sort_field], 0, 0, "")
        next_id += 1 + len(spec.cards)


def _card_rows(notes: list[NoteSpec], deck_ids: dict[str, int], first_id: int) -> Iterator[tuple]:
    """The `cards` rows genanki's Card.write_to_db writes: new cards, due in the order of the notes."""
    next_id = first_id
    for position, spec in enumerate(notes):
        note_id = next_id
        next_id += 1
        for ord_ in spec.cards:
            yield (next_id, note_id, deck_ids[spec.deck], ord_, spec.mod, -1, 0, 0, position, 0, 0, 0, 0, 0, 0, 0, 0, "")
            next_id += 1


def _split_schema(schema: str) -> tuple[str, str]:
    """genanki's collection schema as (its tables, its indexes)."""
    at = schema.index("CREATE INDEX")
    return schema[:at], schema[at:]


def _write_collection(db_path: Path, root_id: int, root_name: str, description: str, notes: list[NoteSpec],
                      notetypes: dict[str, NoteType], notetype_mods: dict[str, int]) -> None:
    deck_names = [root_name] + sorted({n.deck for n in notes} - {root_name})
    decks = {}
    for name in deck_names:
        deck = genanki.Deck(deck_id_for(root_id, root_name, name), name,
                            description if name == root_name else "")
        decks[name] = deck
    used = sorted({n.notetype for n in notes})
    release = max([n.mod for n in notes] + list(notetype_mods.values()) + [0])
    conn = sqlite3.connect(db_path)
    try:
        cursor = conn.cursor()
        # A scratch file (it is zipped, then deleted): no journal, no fsync.
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        tables, indexes = _split_schema(APKG_SCHEMA)
        cursor.executescript(tables)
        cursor.executescript(APKG_COL)
        deck_json = json.loads(cursor.execute("SELECT decks FROM col").fetchone()[0])
        for deck in decks.values():
            deck_json[str(deck.deck_id)] = deck.to_json()
        model_json = json.loads(cursor.execute("SELECT models FROM col").fetchone()[0])
        for key in used:
            model_json[str(notetypes[key].model_id)] = notetype_json(notetypes[key], notetype_mods[key], root_id)
        cursor.execute("UPDATE col SET decks = ?, models = ?",
                       (json.dumps(deck_json, sort_keys=True), json.dumps(model_json, sort_keys=True)))
        # Note and card ids only need to be unique inside the package: Anki matches notes by
        # GUID and gives a new id where one is taken. Counting from the release time keeps
        # them reproducible and makes Anki's "Created" column show the release date.
        first_id = release * 1000
        deck_ids = {name: deck.deck_id for name, deck in decks.items()}
        # Two passes over the notes (generators: no list of every row in memory), same ids in both.
        cursor.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", _note_rows(notes, notetypes, first_id))
        cursor.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           _card_rows(notes, deck_ids, first_id))
        cursor.executescript(indexes)  # indexed once at the end: faster than row by row
        conn.commit()
    finally:
        conn.close()
