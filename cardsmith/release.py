"""A deck's release (stage 5): its lock read and checked, the ledger updated, the changes that would hurt
learners refused, then what the package ships (the notes with their release times, tombstones of
deleted cards) and the lock written.

Refused, with what to do: a note type whose fields or templates changed since it was released, a card
whose note type changed, a card whose GUID the lock says is another's, a mass deletion, a stale lock
under --frozen. `cardsmith check` plans the same release without writing it.
"""

from __future__ import annotations

import hashlib
import html
import json
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import AbstractSet, Callable

import genanki

from . import __version__
from .config import DeckConfig
from .errors import Problem, counted, display_path
from .files import file_digest, remove_stale, write_atomic
from .ledger import Changes, Ledger
from .lockfile import LockRead, read_lock
from .model import DeckBuild
from .notetypes import NoteType
from .package import NoteSpec, write_package

DELETION_LIMIT = 4  # a build that would delete more than 1/4 of a deck's released cards needs --allow-deletions
DELETED_TAG = "cardsmith::deleted"
MOVED_TAG = "cardsmith::moved"
DELETED_SUBDECK = "Deleted cards"


@dataclass(frozen=True)
class Release:
    """What a build will release for one deck, decided before anything is written."""

    build: DeckBuild
    notetypes: dict[str, NoteType]  # the project's
    deck_shown: str  # the deck file, as messages show it
    lock: LockRead
    ledger: Ledger  # the lock after this build
    changes: Changes

    @property
    def deck(self) -> DeckConfig:
        return self.build.config

    @classmethod
    def plan(cls, build: DeckBuild, notetypes: dict[str, NoteType], now: int, live_guids: AbstractSet[str],
             shown: Callable[[Path], str]) -> "Release":
        """Read the deck's lock (BuildError if it is refused) and update it with this build's notes."""
        deck = build.config
        used = sorted({n.note_type for n in build.notes})
        hashes = {key: (notetypes[key].content_hash(), notetypes[key].schema()) for key in used}
        lock = read_lock(deck.lock_path, shown(deck.lock_path), deck.deck_id, shown(deck.path), int(time.time()))
        ledger, changes = lock.ledger.update(build.notes, hashes, now, deck.deck_id, live_guids)
        return cls(build, notetypes, shown(deck.path), lock, ledger, changes)

    def problems(self, frozen: bool, allow_deletions: bool) -> list[Problem]:
        """Why this release must not be written (empty: it may)."""
        problems = self._schema_changes() + self._guid_changes()
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

    def _schema_changes(self) -> list[Problem]:
        """Changes Anki cannot apply to notes it already has: refused, with what to do instead."""
        problems = []
        for key in sorted({n.note_type for n in self.build.notes}):
            old = self.lock.ledger.notetypes.get(key, {}).get("schema")
            new = self.notetypes[key].schema()
            if old and old != new:
                before = ", ".join(name for _, name in old["fields"] + old["templates"])
                after = ", ".join(name for _, name in new["fields"] + new["templates"])
                problems.append(Problem(
                    f"templates/{key}/notetype.yaml", 1,
                    f"the fields or card templates of note type '{self.notetypes[key].name}' changed since the "
                    f"last release ({before} -> {after}). Anki cannot update existing notes across that change: "
                    "it would add a copy of the note type and report every note as conflicting. Keep a released "
                    "note type's fields and templates (their HTML and CSS may change freely); for another layout "
                    "add a new note type (a new folder in templates/ with new fixed ids) for new cards"))
        released = dict(self.changes.retyped)  # card id -> the type it was released as
        for note in self.build.notes if released else ():
            if note.card_id in released:
                problems.append(Problem(
                    note.shown_path, note.id_line,
                    f"card '{note.card_id}' was released as a '{released[note.card_id]}' note and Anki will not "
                    f"turn an existing note into a '{note.note_type}' note; keep the type, or give the card a new "
                    "id (the old note is then shipped as deleted)"))
        return problems

    def _guid_changes(self) -> list[Problem]:
        """Cards whose GUID cardsmith made from the deck's id and the card's id, but which the lock released
        under another GUID: the lock is another deck's, or the card's `guid:` was removed. Refused."""
        released = dict(self.changes.reguided)
        problems = []
        deck_id = self.deck.deck_id
        for note in self.build.notes if released else ():
            if note.card_id in released and note.guid == genanki.guid_for(deck_id, note.card_id):
                problems.append(Problem(self.lock.shown, self.lock.line_of("cards", note.card_id), (
                    f"card '{note.card_id}' was released with the GUID '{released[note.card_id]}', but this deck "
                    f"(id {deck_id}) gives it '{note.guid}': the lock is another deck's, or the card's `guid:` "
                    f"was removed from its id comment ({note.shown_path}:{note.id_line}). Anki matches notes by "
                    "GUID: learners would keep the old note and get a new one. Put the guid back, or restore the "
                    f"lock from git (`git checkout -- {self.lock.shown}`)")))
        return problems

    def notices(self) -> list[str]:
        """What the build did on its own, and what the project says it knows (a file its cards use that the package
        it was imported from lacked), to say after the deck's summary."""
        said = [str(p) for p in self.build.problems if p.severity == "notice"]
        count = self.lock.resolved
        if not count:
            return said
        return [f"{self.lock.shown}: resolved {counted(count, 'git merge-conflict region')} (both "
                "branches' cards kept; for a card both released, the later release) and wrote the lock without "
                "markers"] + said

    def unmade(self) -> list[tuple[str, str, bool]]:
        """(card id, card name, cloze?) per released card its note no longer makes (see ledger.Changes.unmade)."""
        result = []
        for card_id, ordinals in self.changes.unmade:
            notetype = self.notetypes[self.ledger.cards[card_id]["type"]]
            result += [(card_id, notetype.card_name(o), notetype.is_cloze) for o in ordinals]
        return result

    def shipped(self) -> list[NoteSpec]:
        """The package's notes: every note with its release time (tagged when it moved), then the tombstones."""
        cards = self.ledger.cards
        specs = []
        for note in self.build.notes:
            record = cards[note.card_id]
            tags = note.tags + ((MOVED_TAG,) if record.get("moved_from") else ())
            specs.append(NoteSpec(note.guid, note.note_type, note.fields, tags, note.subdeck, record["mod"], note.cards))
        return specs + self.tombstones()

    def tombstones(self) -> list[NoteSpec]:
        """Deleted cards are re-shipped marked, so one search in Anki finds them all (see tombstone)."""
        return [tombstone(card_id, record, self.notetypes, self.deck.name)
                for card_id, record in sorted(self.ledger.deleted.items())]

    def fingerprint(self, tombstones: list[NoteSpec], notetype_mods: dict[str, int], media: dict[str, Path]) -> str:
        """A hash of everything that goes into the package (cards by their content hash)."""
        digest = hashlib.sha256()
        deck = self.deck
        used = {key: self.notetypes[key].content_hash() for key in notetype_mods}
        digest.update(json.dumps([__version__, deck.name, deck.deck_id, deck.description, used, notetype_mods,
                                  sorted(media)]).encode())
        if self.build.folder_media:  # files kept under their own names change without a new name
            digest.update(json.dumps(sorted((m.name, m.digest) for m in self.build.folder_media)).encode())
        cards = self.ledger.cards
        digest.update("\n".join("\0".join((n.guid, n.content_hash, n.subdeck, str(cards[n.card_id]["mod"]),
                                             cards[n.card_id].get("moved_from", ""))) for n in self.build.notes).encode())
        for note in tombstones:
            digest.update(json.dumps([note.guid, note.notetype, note.fields, note.tags, note.deck,
                                      note.mod]).encode())
        return digest.hexdigest()

    def write(self, out_dir: Path, frozen: bool, rewrite: bool = False) -> "DeckResult":
        """Write the package (unless the one there is this release's already, or `rewrite`) and the lock (unless
        frozen)."""
        started = time.perf_counter()
        deck, ledger = self.deck, self.ledger
        notes = self.shipped()
        media = self.build.media
        notetype_mods = {key: ledger.notetypes.get(key, {"mod": ledger.latest()})["mod"]
                         for key in sorted({n.notetype for n in notes})}
        output = out_dir / f"{deck.slug}.apkg"
        remove_stale(output)  # what a killed build left, also when this one writes no package
        fingerprint = self.fingerprint(notes[len(self.build.notes):], notetype_mods, media)
        stamp = out_dir / f".{deck.slug}.stamp"
        cards = None if rewrite else stamped_cards(stamp, output, fingerprint)
        up_to_date = cards is not None
        if cards is None:
            write_package(output, deck.deck_id, deck.name, deck.description, notes, self.notetypes, notetype_mods, media)
            cards = sum(len(n.cards) for n in self.build.notes)  # the tombstones are not the deck's cards
            write_atomic(stamp, [f"{fingerprint}\n{cards}\n{file_digest(output).hex()}\n"])
        if not frozen:  # a --frozen build never changes the lock (not even to add the deck's id)
            ledger.write(deck.lock_path)
        return DeckResult(deck, output, cards, len(self.build.notes), len(media),
                          self.build.seconds + time.perf_counter() - started, up_to_date, self.changes, self.notices(),
                          self.unmade())


def stamped_cards(stamp: Path, output: Path, fingerprint: str) -> int | None:
    """The live cards of the package at `output` if its stamp says it is this release's (`fingerprint`) and the
    package is the file the stamp describes (a SHA-256 of its bytes: a damaged or replaced package is rebuilt)."""
    if not (_regular(stamp) and _regular(output)):
        return None
    lines = stamp.read_bytes()[:1000].decode("utf-8", "replace").split("\n")
    if len(lines) < 3 or lines[0] != fingerprint or not lines[1].isdigit():
        return None
    return int(lines[1]) if file_digest(output).hex() == lines[2] else None


def _regular(path: Path) -> bool:
    """Whether `path` is a regular file, not a symlink (nothing else is read: a FIFO would block)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def tombstone(card_id: str, record: dict, notetypes: dict[str, NoteType], deck_name: str) -> NoteSpec:
    """A deleted card as shipped: "deleted" in every field a card shows (in a deletion per card, for a cloze type),
    tagged.

    Its note keeps the type it was released as (Anki would not update it into another); a type removed
    since is replaced by one that exists, any will do to say "deleted".
    """
    key = record["type"]
    if key not in notetypes:
        key = "basic" if "basic" in notetypes else min(notetypes)
    notetype = notetypes[key]
    message = (f"<p><b>This card was deleted from the deck</b> (id <code>{html.escape(card_id)}</code>).</p>"
               f"<p>Delete it in the browser: search <code>tag:{DELETED_TAG}</code>.</p>")
    if notetype.is_cloze:  # a deletion for each card it had (c1 only, when the lock did not record them)
        cloze = set(notetype.rule.cloze_fields)
        deletions = " ".join(f"{{{{c{ordinal + 1}::{message}}}}}" for ordinal in record.get("cards", [0]))
        fields = tuple(deletions if name in cloze else "" for name in notetype.field_names)
    else:
        fields = (message,) * len(notetype.fields)
    return NoteSpec(record["guid"], key, fields, (DELETED_TAG,), f"{deck_name}::{DELETED_SUBDECK}", record["mod"],
                    notetype.rule.cards(fields, True))


@dataclass
class DeckResult:
    """What building one deck did."""

    config: DeckConfig
    output: Path
    cards: int
    notes: int
    media: int
    seconds: float
    up_to_date: bool
    changes: Changes
    notices: list[str] = field(default_factory=list)  # what the build did on its own (a merge conflict resolved)
    unmade: list[tuple[str, str, bool]] = field(default_factory=list)  # Release.unmade

    def summary(self, root: Path) -> str:
        shown = display_path(self.output, root)
        if self.up_to_date:
            return f"{self.config.name}: up to date ({counted(self.notes, 'note')}) -> {shown}"
        return (f"{self.config.name}: {counted(self.cards, 'card')}, {counted(self.notes, 'note')}, {self.media} media"
                f" -> {shown} ({self.seconds:.1f} s)")

    def changes_line(self) -> str:
        c = self.changes
        unmade = len(self.unmade)
        return (f"{len(c.new)} new, {len(c.changed)} changed, {len(c.unchanged)} unchanged, "
                f"{len(c.deleted)} deleted, {len(c.moved)} moved"
                + (f", {counted(unmade, 'card')} no longer made" if unmade else ""))

    def details(self) -> list[str]:
        """Every change, one line each, with what the learner has to do in Anki."""
        c = self.changes
        lines = [f"new: {i}" for i in c.new] + [f"changed: {i}" for i in c.changed]
        for card_id in c.deleted:
            lines.append(f"deleted: {card_id} (shipped tagged {DELETED_TAG}; learners delete it in Anki"
                         f" by searching tag:{DELETED_TAG})")
        for card_id, old, new in c.moved:
            lines.append(f'moved: {card_id} from "{old}" to "{new}" (Anki does not move cards on import: in the'
                         f' browser search "deck:{old}" tag:{MOVED_TAG}, select the cards, Change Deck to "{new}")')
        for card_id, name, cloze in self.unmade:
            shows = '"No cloze found on card"' if cloze else "an empty side"
            lines.append(f"card no longer made: {card_id} {name} (Anki keeps the learners' card, showing {shows}: "
                         "they delete it with Tools > Empty Cards in Anki's main window)")
        lines += [f"note type changed: {k}" for k in c.notetypes_changed]
        return lines

    def report(self) -> dict:
        c = self.changes
        return {"deck": self.config.name, "output": str(self.output), "cards": self.cards, "notes": self.notes,
                "media": self.media, "up_to_date": self.up_to_date,
                "new": c.new, "changed": c.changed, "unchanged": len(c.unchanged), "deleted": c.deleted,
                "moved": [{"id": i, "from": a, "to": b} for i, a, b in c.moved],
                "cards_no_longer_made": [{"id": i, "card": name} for i, name, _ in self.unmade],
                "notetypes_changed": c.notetypes_changed}
