"""The ledger (decks/<deck>.lock): per card, a hash of its rendered content and the
modification time Anki sees.

Anki updates a note on import only when the incoming modification time is strictly newer
than its own. A card's time therefore moves forward exactly when its content changes, and
then past every earlier release; an unchanged card keeps its time, so an edit the learner
made in Anki to that card survives the import. Committed next to the deck, like a lock file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Iterator, Protocol, Sequence

FORMAT = 1
_RECORD = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_CARD_KEYS = {"guid", "hash", "mod", "subdeck", "type"}  # a card's record, unless it moved


class Entry(Protocol):
    """What the ledger needs to know about one card in this build (pipeline.Note is one)."""

    @property
    def card_id(self) -> str: ...
    @property
    def guid(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def subdeck(self) -> str: ...
    @property
    def note_type(self) -> str: ...


@dataclass
class Changes:
    """What a build changed against the previous release."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # (id, from, to)
    notetypes_changed: list[str] = field(default_factory=list)
    retyped: list[tuple[str, str]] = field(default_factory=list)  # (id, released type): Anki cannot follow

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.deleted or self.moved or self.notetypes_changed)


def build_time() -> int:
    """The current time, or SOURCE_DATE_EPOCH when set (reproducible-builds convention)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else int(time.time())


@dataclass
class Ledger:
    cards: dict[str, dict] = field(default_factory=dict)
    deleted: dict[str, dict] = field(default_factory=dict)
    notetypes: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "Ledger":
        """Read a lock file; a missing file is an empty ledger (a first release)."""
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data.get("cards", {}), data.get("deleted", {}), data.get("notetypes", {}))

    def chunks(self) -> Iterator[str]:
        """The lock file's text, piece by piece: one line per card, sorted (small diffs in git)."""
        yield f'{{"format": {FORMAT},\n'
        for number, (name, rows) in enumerate((("cards", self.cards), ("deleted", self.deleted),
                                               ("notetypes", self.notetypes))):
            yield f'"{name}": {{' if rows else f'"{name}": {{}}'
            for index, key in enumerate(sorted(rows)):
                yield f'{"," if index else ""}\n {encode_basestring(key)}: {_encode(rows[key])}'
            yield ("\n}" if rows else "") + (",\n" if number < 2 else "}\n")

    def write(self, path: Path) -> bool:
        """Write the lock file atomically unless it already says the same; return whether it changed.

        Streamed through a temporary file: a 100,000-card lock never sits in memory whole.
        """
        tmp = path.with_name(f".{path.name}.tmp")
        digest = hashlib.sha256()
        with tmp.open("w", encoding="utf-8") as stream:
            for block in _blocks(self.chunks()):
                stream.write(block)
                digest.update(block.encode("utf-8"))
        if path.exists() and _file_digest(path) == digest.digest():
            tmp.unlink()
            return False
        tmp.replace(path)
        return True

    def latest(self) -> int:
        """The newest modification time of anything released so far."""
        times = [e["mod"] for table in (self.cards, self.deleted, self.notetypes) for e in table.values()]
        return max(times, default=0)

    def update(self, entries: Sequence[Entry], notetype_hashes: dict[str, tuple[str, dict]], now: int) -> tuple["Ledger", Changes]:
        """The ledger after this build, and what changed. The old ledger is left as it was (unchanged
        records are shared with the new one: neither is modified afterwards)."""
        # Strictly after every earlier release, and never in the future: a learner's edit made
        # after this build must stay newer than it.
        clock = max(now, self.latest() + 1)
        changes = Changes()
        result = Ledger()
        for entry in entries:
            old = self.cards.get(entry.card_id)
            if (old is not None and len(old) == 5 and old.get("hash") == entry.content_hash  # the usual case:
                    and old.get("guid") == entry.guid and old.get("type") == entry.note_type  # kept as it was
                    and old.get("subdeck") == entry.subdeck and "mod" in old):
                changes.unchanged.append(entry.card_id)
                result.cards[entry.card_id] = old
                continue
            record = {"guid": entry.guid, "hash": entry.content_hash, "subdeck": entry.subdeck,
                      "type": entry.note_type}
            if old and old.get("moved_from"):
                record["moved_from"] = old["moved_from"]
            if old is None:
                changes.new.append(entry.card_id)
                record["mod"] = clock
            else:
                if old.get("type", entry.note_type) != entry.note_type:
                    changes.retyped.append((entry.card_id, old["type"]))
                moved = old.get("subdeck") != entry.subdeck
                same = old["hash"] == entry.content_hash and old.get("guid") == entry.guid \
                    and old.get("type") == entry.note_type
                if moved:
                    # The move reaches Anki as a `cardsmith::moved` tag, so the note must update.
                    changes.moved.append((entry.card_id, old.get("subdeck", ""), entry.subdeck))
                    record["moved_from"] = old.get("subdeck", "")
                if same and not moved:
                    changes.unchanged.append(entry.card_id)
                    record["mod"] = old["mod"]
                else:
                    if not same:
                        changes.changed.append(entry.card_id)
                    record["mod"] = clock
            result.cards[entry.card_id] = record
        present = set(result.cards)
        for card_id, record in self.deleted.items():
            if card_id not in present:
                result.deleted[card_id] = record
        for card_id, old in self.cards.items():
            if card_id not in present:
                changes.deleted.append(card_id)
                result.deleted[card_id] = {"guid": old["guid"], "type": old.get("type", "basic"), "mod": clock}
        for key, (digest, schema) in sorted(notetype_hashes.items()):
            old = self.notetypes.get(key)
            if old and old["hash"] == digest:
                result.notetypes[key] = old
            else:
                result.notetypes[key] = {"hash": digest, "mod": clock, "schema": schema}
                changes.notetypes_changed.append(key)
        return result, changes


def _encode(record: dict) -> str:
    """`_RECORD.encode(record)`: the same text, four times faster for a card's usual record."""
    if (record.keys() == _CARD_KEYS and type(record["mod"]) is int and type(record["guid"]) is str
            and type(record["hash"]) is str and type(record["subdeck"]) is str and type(record["type"]) is str):
        return (f'{{"guid": {encode_basestring(record["guid"])}, "hash": {encode_basestring(record["hash"])}, '
                f'"mod": {record["mod"]}, "subdeck": {encode_basestring(record["subdeck"])}, '
                f'"type": {encode_basestring(record["type"])}}}')
    return _RECORD.encode(record)


def _blocks(chunks: Iterator[str], size: int = 1000) -> Iterator[str]:
    """The chunks joined a thousand at a time (fewer writes, still never the whole file)."""
    batch: list[str] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) == size:
            yield "".join(batch)
            batch = []
    yield "".join(batch)


def _file_digest(path: Path) -> bytes:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
