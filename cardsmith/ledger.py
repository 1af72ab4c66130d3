"""The ledger (decks/<deck>.lock): per card, a hash of its rendered content and the
modification time Anki sees.

Anki updates a note on import only when the incoming modification time is strictly newer
than its own. A card's time therefore moves forward exactly when its content changes, and
then past every earlier release; an unchanged card keeps its time, so an edit the learner
made in Anki to that card survives the import. Committed next to the deck, like a lock file.
Reading one (checks, git merge conflicts) is lockfile.py's.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import AbstractSet, Iterator, Protocol, Sequence

from .errors import BuildError, Problem
from .files import write_atomic

FORMAT = 1
CLOCK_SKEW = 600  # seconds: a time up to 10 minutes ahead of this machine's clock is another machine's skew
_RECORD = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_CARD_KEYS = {"guid", "hash", "mod", "subdeck", "type"}  # a card's record, unless it moved or has other cards
ONLY_FIRST_CARD = (0,)  # the ordinals of a note with one card, its first template's: not written in the lock


class Entry(Protocol):
    """What the ledger needs to know about one card in this build (model.Note is one)."""

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
    @property
    def cards(self) -> tuple[int, ...]: ...


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
    reguided: list[tuple[str, str]] = field(default_factory=list)  # (id, released GUID): a card's GUID changed
    # (id, ordinals): cards of a released note that it no longer makes (a cloze deletion removed). Anki keeps
    # them, showing an error or a blank side, until the learner runs Tools -> Empty Cards.
    unmade: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.deleted or self.moved or self.notetypes_changed)


def build_time() -> int:
    """The current time, or SOURCE_DATE_EPOCH when set (reproducible-builds convention).

    A SOURCE_DATE_EPOCH that is not a number, or is in the future, is refused: every card released
    with a future time would overwrite the learners' own edits of it on each import until then.
    """
    now = int(time.time())
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return now
    if not value.isdigit():
        raise BuildError([Problem("SOURCE_DATE_EPOCH", 0, f"'{value[:40]}' is not a time (whole seconds since "
                                  "1970, e.g. `git log -1 --format=%ct`); set it to one, or unset it")])
    if int(value) > now + CLOCK_SKEW:
        raise BuildError([Problem("SOURCE_DATE_EPOCH", 0, f"{value} is in the future (this machine's clock says "
                                  f"{now}): cards released with it would overwrite learners' own edits on every "
                                  "import until then; set it to the last commit's time (`git log -1 --format=%ct`)")])
    return int(value)


@dataclass
class Ledger:
    cards: dict[str, dict] = field(default_factory=dict)
    deleted: dict[str, dict] = field(default_factory=dict)
    notetypes: dict[str, dict] = field(default_factory=dict)
    deck_id: int | None = None  # the deck the lock belongs to (None: written before cardsmith recorded it)

    def chunks(self) -> Iterator[str]:
        """The lock file's text, piece by piece: one line per card, sorted (small diffs in git)."""
        deck = f' "deck": {self.deck_id},' if self.deck_id is not None else ""
        yield f'{{"format": {FORMAT},{deck}\n'
        for number, (name, rows) in enumerate((("cards", self.cards), ("deleted", self.deleted),
                                               ("notetypes", self.notetypes))):
            yield f'"{name}": {{' if rows else f'"{name}": {{}}'
            for index, key in enumerate(sorted(rows)):
                yield f'{"," if index else ""}\n {encode_basestring(key)}: {_encode(rows[key])}'
            yield ("\n}" if rows else "") + (",\n" if number < 2 else "}\n")

    def write(self, path: Path) -> bool:
        """Write the lock file atomically unless it already says the same; return whether it changed.

        Streamed through a temporary file of its own: a 100,000-card lock never sits in memory whole.
        """
        return write_atomic(path, _blocks(self.chunks()), unless_same=True)

    def latest(self) -> int:
        """The newest modification time of anything released so far."""
        times = [e["mod"] for table in (self.cards, self.deleted, self.notetypes) for e in table.values()]
        return max(times, default=0)

    def update(self, entries: Sequence[Entry], notetype_hashes: dict[str, tuple[str, dict]], now: int,
               deck_id: int | None = None, live_guids: AbstractSet[str] = frozenset()
               ) -> tuple["Ledger", Changes]:
        """The ledger after this build, and what changed. The old ledger is left as it was (unchanged
        records are shared with the new one: neither is modified afterwards).

        Never a tombstone for a card that is live: not for a card id of `entries`, nor for a GUID of
        `entries` or `live_guids` (the notes of every deck built with this one), which Anki would
        otherwise overwrite with "deleted".
        """
        # Strictly after every earlier release, and never in the future: a learner's edit made
        # after this build must stay newer than it.
        clock = max(now, self.latest() + 1)
        changes = Changes()
        result = Ledger(deck_id=self.deck_id if deck_id is None else deck_id)
        for entry in entries:
            old = self.cards.get(entry.card_id)
            if (old is not None and len(old) == 5 and old.get("hash") == entry.content_hash  # the usual case:
                    and old.get("guid") == entry.guid and old.get("type") == entry.note_type  # kept as it was
                    and old.get("subdeck") == entry.subdeck and "mod" in old and entry.cards == ONLY_FIRST_CARD):
                changes.unchanged.append(entry.card_id)
                result.cards[entry.card_id] = old
                continue
            record = {"guid": entry.guid, "hash": entry.content_hash, "subdeck": entry.subdeck,
                      "type": entry.note_type}
            if entry.cards != ONLY_FIRST_CARD:  # recorded, so that a later build sees a card the note stops making
                record["cards"] = list(entry.cards)
            if old and old.get("moved_from"):
                record["moved_from"] = old["moved_from"]
            if old is None:
                changes.new.append(entry.card_id)
                record["mod"] = clock
            else:
                if old.get("type", entry.note_type) != entry.note_type:
                    changes.retyped.append((entry.card_id, old["type"]))
                if old["guid"] != entry.guid:
                    changes.reguided.append((entry.card_id, old["guid"]))
                # A lock written before ordinals were recorded says nothing of a note's other cards.
                unmade = sorted(set(old.get("cards", ONLY_FIRST_CARD)) - set(entry.cards))
                if unmade and old.get("type", entry.note_type) == entry.note_type:
                    changes.unmade.append((entry.card_id, tuple(unmade)))
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
        live = {entry.guid for entry in entries}
        live.update(live_guids)
        for card_id, record in self.deleted.items():
            if card_id not in present and record["guid"] not in live:
                result.deleted[card_id] = record
        for card_id, old in self.cards.items():
            if card_id not in present and old["guid"] not in live:
                changes.deleted.append(card_id)
                result.deleted[card_id] = {"guid": old["guid"], "type": old.get("type", "basic"), "mod": clock}
                if "cards" in old:  # its tombstone says "deleted" on each of them (every deletion, for a cloze)
                    result.deleted[card_id]["cards"] = old["cards"]
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
