"""The sync record: what `cardsmith sync` last put into one collection, per deck and note.

Kept in the project, in `.cardsmith/sync/<collection>.json` (not committed: it describes one
learner's collection, where the lock file describes a release). Per note (by GUID): the card id, a
hash of each field, the tags and the deck as synced, and whether the sync suspended it as deleted.
The next sync tells from it what changed in Anki since (the learner's tags and moves, edits to the
text); `cardsmith pull` can compare each field of three versions with it (Anki, the record, the
source). Written atomically after the collection was changed; a missing or older record is safe:
the sync then keeps every tag and leaves cards it did not place where they are.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ESCAPED_SURROGATE_RE, BuildError, Problem, display_path, not_text
from ..files import MAX_RECORD_BYTES, read_limited, refuse_symlinks, write_atomic
from .syncplan import RecordedNote

FORMAT = 1
FOLDER = Path(".cardsmith") / "sync"


def record_path(root: Path, collection: str) -> Path:
    """The record of one collection (named by its path, which AnkiConnect reports too)."""
    digest = hashlib.sha256(collection.encode()).hexdigest()[:12]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(collection).parent.name or "collection").strip("-")[:40]
    return root / FOLDER / f"{stem or 'collection'}-{digest}.json"


@dataclass
class SyncRecord:
    """One collection's record: the file's data, and per deck id, per GUID, what the last sync put there."""

    path: Path
    data: dict
    decks: dict[int, dict[str, RecordedNote]]


def load_record(root: Path, collection: str) -> SyncRecord:
    """The collection's record (empty before the first sync); raise BuildError for a damaged one, one made for
    another collection, or one reached through a symbolic link (it is written where it is read)."""
    path = record_path(root, collection)
    refuse_symlinks(root, path)
    if not path.exists():
        return SyncRecord(path, {"format": FORMAT, "collection": collection, "decks": {}}, {})
    try:
        text = read_limited(path, MAX_RECORD_BYTES).decode("utf-8")
        data = json.loads(text)
        wrong = not_text(json.dumps(data, ensure_ascii=False)) if ESCAPED_SURROGATE_RE.search(text) else None
        if wrong:
            raise ValueError(wrong)
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, not {FORMAT}")
        if data.get("collection") != collection:  # copied over this one's: its bases would undo edits
            raise ValueError(f"it is the record of {data.get('collection')!r}, not the sync record of this "
                             "collection")
        decks = {}
        for deck_id, deck in data["decks"].items():
            notes = {}
            for guid, entry in deck["notes"].items():
                note = RecordedNote(entry["id"], tuple(entry["fields"]), tuple(entry["tags"]), entry["deck"],
                                    entry.get("deleted", False))
                "".join(note.fields + note.tags)  # a TypeError unless all are strings
                if not (type(note.card_id) is str and type(note.deck) is str and type(note.deleted) is bool):
                    raise ValueError(f"the entry of {guid!r} is not a note's")
                notes[guid] = note
            decks[int(deck_id)] = notes
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        why = "nested too deeply" if isinstance(error, RecursionError) else error  # JSON nested thousands deep
        raise BuildError([Problem(display_path(path, root), 1, (
            f"not a readable sync record ({why}); delete it to sync without it (the learner's tags are then "
            "all kept, and cards the sync did not place stay where they are)"))]) from None
    return SyncRecord(path, data, decks)


def save_record(record: SyncRecord, decks: dict[int, tuple[str, dict[str, RecordedNote]]]) -> None:
    """Replace the records of the decks given (id -> (name, notes)), keeping the others; atomically, and
    only when something changed."""
    changed = not record.path.exists()
    for deck_id, (name, notes) in decks.items():
        if record.decks.get(deck_id) == notes and record.data["decks"][str(deck_id)].get("name") == name:
            continue
        record.decks[deck_id] = notes
        record.data["decks"][str(deck_id)] = {"name": name, "notes": {g: _entry(n) for g, n in notes.items()}}
        changed = True
    if changed:
        record.path.parent.mkdir(parents=True, exist_ok=True)
        # The C encoder (no indent): 10,000 notes in 30 ms. Through a temporary file of a unique name: a
        # symlink planted at the record's path is replaced, never written through.
        write_atomic(record.path, [json.dumps(record.data, ensure_ascii=False, sort_keys=True) + "\n"])


def _entry(note: RecordedNote) -> dict:
    entry = {"id": note.card_id, "fields": note.fields, "tags": note.tags, "deck": note.deck}
    if note.deleted:
        entry["deleted"] = True
    return entry
