"""A deck's release: its lock read and checked, the ledger updated, and the changes that would hurt
learners refused (a card whose GUID the lock says is another's, a mass deletion, a stale --frozen lock).

The note-type checks (fields, templates, a card's type) are the pipeline's `_schema_changes`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, AbstractSet, Callable, Sequence

import genanki

from .config import DeckConfig
from .errors import Problem
from .ledger import Changes, Ledger
from .lockfile import LockRead, read_lock

if TYPE_CHECKING:
    from .pipeline import Note

DELETION_LIMIT = 4  # a build that would delete more than 1/4 of a deck's released cards needs --allow-deletions


@dataclass(frozen=True)
class Release:
    """What a build will release for one deck, decided before anything is written."""

    deck: DeckConfig
    deck_shown: str  # the deck file, as messages show it
    lock: LockRead
    ledger: Ledger  # the lock after this build
    changes: Changes

    @classmethod
    def read(cls, deck: DeckConfig, notes: Sequence[Note], notetype_hashes: dict[str, tuple[str, dict]], now: int,
             live_guids: AbstractSet[str], shown: Callable[[Path], str]) -> "Release":
        """Read the deck's lock (BuildError if it is refused) and update it with this build's notes."""
        lock = read_lock(deck.lock_path, shown(deck.lock_path), deck.deck_id, shown(deck.path), int(time.time()))
        ledger, changes = lock.ledger.update(notes, notetype_hashes, now, deck.deck_id, live_guids)
        return cls(deck, shown(deck.path), lock, ledger, changes)

    def problems(self, notes: Sequence[Note], frozen: bool, allow_deletions: bool) -> list[Problem]:
        """Why this release must not be written (empty: it may)."""
        problems = self._guid_changes(notes)
        shown = self.lock.shown
        if frozen and self.lock.resolved:
            problems.append(Problem(shown, 1, "has git merge-conflict markers: run `cardsmith build` (it resolves "
                                    "them) and commit the lock (a --frozen build never changes it)"))
        elif frozen and (self.changes.any or not self.deck.lock_path.exists()):
            problems.append(Problem(shown, 1, "out of date with the card sources; run `make build` and commit it "
                                    "(a --frozen build never changes it)"))
        deleted, released = self.changes.deleted, len(self.lock.ledger.cards)
        if len(deleted) * DELETION_LIMIT > released and not allow_deletions:
            named = ", ".join(deleted[:5]) + (f" and {len(deleted) - 5} more" if len(deleted) > 5 else "")
            problems.append(Problem(self.deck_shown, 1, (
                f"this build would delete {len(deleted)} of the deck's {released} released cards (more than a "
                f"quarter): {named} {'are' if len(deleted) > 1 else 'is'} in {shown} but in no card file that the "
                f"deck's `cards` patterns ({', '.join(self.deck.card_globs)}) match. A mistyped pattern, a card file "
                "moved away, or a lock from elsewhere? If the deletions are meant, build with --allow-deletions "
                "(learners then get those cards marked deleted)")))
        return problems

    def _guid_changes(self, notes: Sequence[Note]) -> list[Problem]:
        """Cards whose GUID cardsmith made from the deck's id and the card's id, but which the lock released
        under another GUID: the lock is another deck's, or the card's `guid:` was removed. Refused."""
        released = dict(self.changes.reguided)
        problems = []
        deck_id = self.deck.deck_id
        for note in notes if released else ():
            if note.card_id in released and note.guid == genanki.guid_for(deck_id, note.card_id):
                problems.append(Problem(self.lock.shown, self.lock.line_of("cards", note.card_id), (
                    f"card '{note.card_id}' was released with the GUID '{released[note.card_id]}', but this deck "
                    f"(id {deck_id}) gives it '{note.guid}': the lock is another deck's, or the card's `guid:` "
                    f"was removed from its id comment ({note.shown_path}:{note.id_line}). Anki matches notes by "
                    "GUID: learners would keep the old note and get a new one. Put the guid back, or restore the "
                    f"lock from git (`git checkout -- {self.lock.shown}`)")))
        return problems

    def notices(self) -> list[str]:
        """What the build did on its own, to say after the deck's summary."""
        count = self.lock.resolved
        if not count:
            return []
        return [f"{self.lock.shown}: resolved {count} git merge-conflict region{'s' if count > 1 else ''} (both "
                "branches' cards kept; for a card both released, the later release) and wrote the lock without markers"]
