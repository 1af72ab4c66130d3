"""What a sync changes in a collection: the deck's build against what the collection holds.

Pure: no Anki here. The inputs are what a build would ship (`ShippedDeck`, from sync.shipped_decks),
what the collection holds of those notes (`Snapshot`, read from Anki's tables by anki_tables.py for
both ways of writing to Anki) and what the last sync into that collection put there (a
`RecordedNote` per GUID, syncrecord.py); the output is a `Plan` both ways apply, and print, the same.

Rules: a note's fields are replaced when the deck's version changed since the last sync (so an
edit made in Anki to a card that did not change upstream survives); tags the deck did not ship are
the learner's and stay; a card is moved only from where cardsmith put it; a removed card is
deleted only if it was never reviewed, else suspended and tagged (unless `delete_reviewed`); a
note the learner deleted after a sync put it there is not added back (unless `restore_deleted`); a
card its note no longer makes (a cloze deletion removed) is deleted the same way, once the note's text
is the deck's (never a card the learner's own edit makes).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

from ..config import DeckConfig
from ..errors import Problem, counted
from ..notetypes import NoteType
from ..release import DELETED_TAG, MOVED_TAG

class ShippedNote(NamedTuple):
    """One note as the deck's current build would ship it.

    This and the other per-note records are tuples: a sync makes tens of thousands of them, and a
    tuple is made three times faster than a frozen dataclass (the one-card sync's budget is 1 s).
    """

    card_id: str
    guid: str
    notetype: str  # key of a NoteType
    fields: tuple[str, ...]  # one per field of the note type
    tags: tuple[str, ...]
    deck: str  # full deck name
    where: str  # `path:line`, for messages
    media: tuple[str, ...] = ()  # names of the media files its fields use (see ShippedDeck.media)
    cards: tuple[int, ...] = (0,)  # the template ordinals of its cards (cardgen: those Anki makes)


@dataclass(frozen=True)
class ShippedDeck:
    """A deck's build, and every GUID it released before (for deletions and moves)."""

    config: DeckConfig
    notes: tuple[ShippedNote, ...]
    notetypes: dict[str, NoteType]  # the note types the notes use
    media: dict[str, Path]  # media name -> file
    released: dict[str, tuple[str, tuple[str, ...]]]  # GUID -> (card id, decks releases put it in)
    elsewhere: frozenset[str] = frozenset()  # GUIDs of the cards of the project's other decks: never removed here


class AnkiCard(NamedTuple):
    card_id: int
    deck: str  # its home deck (the original one while it sits in a filtered deck)
    reviewed: bool
    suspended: bool
    ordinal: int = 0  # its template's (for a cloze note: its deletion's number - 1)


class AnkiNote(NamedTuple):
    note_id: int
    guid: str
    notetype_id: int
    flds: str  # the fields as Anki stores them, joined by \x1f (compared whole: most notes are unchanged)
    tags: tuple[str, ...]
    cards: tuple[AnkiCard, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.flds.split("\x1f"))


@dataclass(frozen=True)
class AnkiNotetype:
    notetype_id: int
    name: str
    cloze: bool
    fields: tuple[tuple[int | None, str], ...]  # (id, name)
    templates: tuple[tuple[int | None, str, str, str], ...]  # (id, name, front, back)
    css: str


@dataclass(frozen=True)
class Snapshot:
    """What a collection holds of one deck's notes (by GUID) and note types (by id)."""

    notes: dict[str, AnkiNote]
    notetypes: dict[int, AnkiNotetype]


class RecordedNote(NamedTuple):
    """What the last sync put into the collection for one note (see syncrecord.py)."""

    card_id: str
    fields: tuple[str, ...]  # a hash per field
    tags: tuple[str, ...]
    deck: str
    deleted: bool = False  # suspended and tagged as deleted by that sync


@dataclass(frozen=True)
class Change:
    """A note whose fields or tags are written (None: left as they are)."""

    note: ShippedNote
    anki: AnkiNote
    fields: tuple[str, ...] | None
    tags: tuple[str, ...] | None
    unsuspend: tuple[int, ...] = ()  # cards a sync suspended as deleted: the card is back
    replaced_edit: bool = False  # its fields had been edited in Anki since the last sync


@dataclass(frozen=True)
class Move:
    note: ShippedNote
    card_ids: tuple[int, ...]
    source: str
    target: str


@dataclass(frozen=True)
class Removal:
    """A note whose card left the deck: deleted, or (reviewed) suspended and tagged."""

    card_id: str
    anki: AnkiNote
    reviewed: bool
    suspend: bool


class Unmade(NamedTuple):
    """A card of a note in Anki that the note no longer makes: deleted, or (reviewed) suspended."""

    note: ShippedNote
    card: AnkiCard
    name: str  # `c2`, or its template's name
    delete: bool


@dataclass(frozen=True)
class NotetypeUpdate:
    """A note type to add (anki is None), or to update in place, with its schema changes."""

    notetype: NoteType
    anki: AnkiNotetype | None
    field_map: tuple[int | None, ...] = ()  # per field of ours: the index of Anki's, or None (new)
    template_map: tuple[int | None, ...] = ()
    schema: tuple[str, ...] = ()  # what changes Anki's schema (a full sync with AnkiWeb)
    refused: tuple[str, ...] = ()  # what no sync does (it would delete learners' data)


@dataclass
class Plan:
    """Everything a sync does to one deck, in the order it is applied."""

    deck: ShippedDeck
    notetypes: list[NotetypeUpdate] = field(default_factory=list)
    added: list[ShippedNote] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    kept: list[tuple[ShippedNote, str]] = field(default_factory=list)  # moved in Anki: stays there
    kept_edits: list[ShippedNote] = field(default_factory=list)  # edited in Anki, unchanged upstream
    skipped: list[tuple[ShippedNote, str]] = field(default_factory=list)  # (note, why)
    removed: list[Removal] = field(default_factory=list)
    parked: list[str] = field(default_factory=list)  # GUIDs of removed notes already suspended and tagged
    unmade: list[Unmade] = field(default_factory=list)  # cards their notes no longer make
    deleted_in_anki: list[ShippedNote] = field(default_factory=list)  # by the learner: not added back
    record_ignored: bool = False  # the record names none of the collection's notes: another collection's
    untouched: int = 0

    @property
    def deleted(self) -> list[Removal]:
        return [r for r in self.removed if not r.suspend]

    @property
    def suspended(self) -> list[Removal]:
        return [r for r in self.removed if r.suspend]

    @property
    def steps(self) -> int:
        """Units of work, for the progress bar."""
        return (len(self.notetypes) + len(self.added) + len(self.changed) + len(self.moved)
                + len(self.removed) + len(self.unmade))

    def counts(self) -> str:
        text = (f"{len(self.added)} added, {len(self.changed)} updated, {len(self.moved)} moved, "
                f"{len(self.deleted)} deleted, {len(self.suspended)} suspended, {self.untouched} untouched")
        if self.unmade:
            deleted = sum(u.delete for u in self.unmade)
            text += (f", {counted(len(self.unmade), 'card')} no longer made "
                     f"({deleted} deleted, {len(self.unmade) - deleted} suspended)")
        return text

    def details(self, verbose: bool) -> list[str]:
        """One line per change (adds and plain updates only when `verbose`)."""
        lines = []
        if self.record_ignored:
            lines.append("the sync record names none of the notes in this collection: it was made for another one "
                         "(a new profile, a restored backup?) and is not used")
        for update in self.notetypes:
            lines.append(notetype_line(update))
        if verbose:
            lines += [f"added: {n.card_id}" for n in self.added]
        for change in self.changed:
            if change.replaced_edit:
                lines.append(f"updated: {change.note.card_id} (its text had been edited in Anki since the last "
                             "sync; the deck's new version replaced that edit)")
            elif verbose or change.unsuspend:
                lines.append(f"updated: {change.note.card_id}" + (" (back in the deck: unsuspended)"
                                                                   if change.unsuspend else ""))
        for move in self.moved:
            lines.append(f'moved: {move.note.card_id} from "{move.source}" to "{move.target}"')
        for note, deck in self.kept:
            lines.append(f'kept: {note.card_id} stays in "{deck}", where it was moved in Anki (the deck puts it in '
                         f'"{note.deck}")')
        if verbose:
            lines += [f"kept: {n.card_id} keeps the text edited in Anki (unchanged in the deck)" for n in self.kept_edits]
        for note, why in self.skipped:
            lines.append(f"skipped: {note.card_id} at {note.where}: {why}")
        for note in self.deleted_in_anki:
            lines.append(f"not added: {note.card_id} was deleted in Anki after a sync put it there "
                         "(--restore-deleted adds it back)")
        for removal in self.removed:
            if removal.suspend:
                lines.append(f"suspended: {removal.card_id} (removed from the deck, but reviewed: tagged {DELETED_TAG}; "
                             "delete it in Anki, or sync with --delete-reviewed)")
            elif removal.reviewed:
                lines.append(f"deleted: {removal.card_id} (removed from the deck, reviewed: --delete-reviewed)")
            else:
                lines.append(f"deleted: {removal.card_id} (removed from the deck, never reviewed)")
        for unmade in self.unmade:
            card = f"{unmade.note.card_id} {unmade.name}"
            if unmade.delete:
                why = "reviewed: --delete-reviewed" if unmade.card.reviewed else "never reviewed"
                lines.append(f"deleted card: {card} (the note no longer makes it; {why})")
            elif unmade.card.reviewed:
                lines.append(f"suspended card: {card} (the note no longer makes it, but it was reviewed: delete it "
                             "with Tools > Empty Cards, or sync with --delete-reviewed)")
            else:
                lines.append(f"suspended card: {card} (the note no longer makes it; AnkiConnect cannot delete a "
                             "card: delete it with Tools > Empty Cards)")
        return lines


def notetype_line(update: NotetypeUpdate) -> str:
    name = update.notetype.name
    if update.anki is None:
        return f"note type added: {name}"
    what = "; ".join(update.schema + update.refused)
    return f"note type updated: {name}" + (f" ({what})" if what else " (templates, CSS)")


def field_hashes(fields: Iterable[str]) -> tuple[str, ...]:
    """A short hash per field (what the record keeps: enough to tell whether a field changed)."""
    return tuple(hashlib.blake2b(_nfc(f).encode(), digest_size=8).hexdigest() for f in fields)


def _nfc(text: str) -> str:
    """Anki stores note text in Unicode NFC: compare in that form, or a card would differ forever."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


@lru_cache(maxsize=4096)
def deck_key(name: str) -> str:
    """Anki's deck names ignore case and spaces around `::`."""
    return "::".join(part.strip() for part in name.split("::")).casefold()


def plan_deck(deck: ShippedDeck, snapshot: Snapshot, record: dict[str, RecordedNote],
              delete_reviewed: bool = False, restore_deleted: bool = False, delete_cards: bool = True) -> Plan:
    """What a sync does to one deck (see the module's rules); `delete_cards`: whether the target can delete one
    card of a note (AnkiConnect cannot: a card to delete is suspended)."""
    plan = Plan(deck)
    if record and not any(guid in snapshot.notes for guid in record):
        plan.record_ignored, record = True, {}
    plan.notetypes = [u for u in (compare_notetype(nt, snapshot.notetypes.get(nt.model_id))
                                  for nt in deck.notetypes.values()) if u is not None]
    shipped = {note.guid for note in deck.notes}
    for note in deck.notes:
        anki = snapshot.notes.get(note.guid)
        if anki is None and note.guid in record and not restore_deleted:
            plan.deleted_in_anki.append(note)  # the learner's decision, as pull will report it
            plan.untouched += 1
        elif anki is None:
            plan.added.append(note)
        if anki is None:
            continue
        expected = deck.notetypes[note.notetype].model_id
        if anki.notetype_id != expected:
            plan.skipped.append((note, f"its note in Anki has another note type (id {anki.notetype_id}, not "
                                       f"{expected}); change it back in Anki, or give the card a new id"))
            continue
        touched, text = _plan_note(plan, note, anki, record.get(note.guid), deck.released.get(note.guid))
        if text != "kept":  # the learner's own text makes cards of its own
            touched |= _plan_unmade(plan, note, anki, text == "updated", delete_reviewed, delete_cards)
        plan.untouched += not touched
    live = shipped | deck.elsewhere  # a card moved to another deck with its GUID is that deck's now
    gone = {guid: entry.card_id for guid, entry in record.items() if guid not in live}
    gone.update((guid, card_id) for guid, (card_id, _) in deck.released.items() if guid not in live)
    for guid, card_id in sorted(gone.items(), key=lambda item: item[1]):
        anki = snapshot.notes.get(guid)
        if anki is None:
            continue
        reviewed = any(card.reviewed for card in anki.cards)
        if reviewed and not delete_reviewed:
            if _has_tag(anki.tags, DELETED_TAG) and all(card.suspended for card in anki.cards):
                plan.parked.append(guid)  # done by an earlier sync, or by hand
                continue
        plan.removed.append(Removal(card_id, anki, reviewed, suspend=reviewed and not delete_reviewed))
    return plan


def _plan_note(plan: Plan, note: ShippedNote, anki: AnkiNote, recorded: RecordedNote | None,
               released: tuple[str, tuple[str, ...]] | None) -> tuple[bool, str]:
    """Plan one note that is in the collection; return whether anything changes, and whether its text in Anki
    after the sync is the deck's as it was ("same"), the deck's written now ("updated"), or the learner's ("kept")."""
    fields = None
    wanted = tuple(_nfc(f) for f in note.fields)
    replaced_edit = False
    if anki.flds != "\x1f".join(wanted):
        upstream = recorded is None or recorded.fields != field_hashes(wanted)
        if upstream:
            fields = wanted
            replaced_edit = recorded is not None and field_hashes(anki.fields) != recorded.fields
        else:
            plan.kept_edits.append(note)
    tags = _tags(anki.tags, note.tags, recorded.tags if recorded else ())
    unsuspend = ()
    if recorded is not None and recorded.deleted:
        unsuspend = tuple(card.card_id for card in anki.cards if card.suspended)
    if fields is not None or tags is not None or unsuspend:
        plan.changed.append(Change(note, anki, fields, tags, unsuspend, replaced_edit))
    placed = {deck_key(recorded.deck)} if recorded else {deck_key(d) for d in (released[1] if released else ())}
    target = deck_key(note.deck)
    moving: dict[str, list[int]] = {}
    kept: dict[str, None] = {}
    for card in anki.cards:
        here = deck_key(card.deck)
        if here == target:
            continue
        if here in placed:
            moving.setdefault(card.deck, []).append(card.card_id)
        else:
            kept.setdefault(card.deck)
    plan.kept += [(note, deck) for deck in kept]
    for source, card_ids in moving.items():
        plan.moved.append(Move(note, tuple(card_ids), source, note.deck))
    text = "updated" if fields is not None else "same" if anki.flds == "\x1f".join(wanted) else "kept"
    return bool(fields is not None or tags is not None or unsuspend or moving), text


def _plan_unmade(plan: Plan, note: ShippedNote, anki: AnkiNote, updated: bool, delete_reviewed: bool,
                 delete_cards: bool) -> bool:
    """Plan the removal of the note's cards in Anki that it no longer makes (cardgen's `note.cards`), its text in
    Anki being the deck's (`updated`: written by this sync); return whether there are any.

    Only when its note type's templates are in the same order in Anki, and the note keeps a card (removing its
    last one would remove the note; an update makes the note's cards first).
    """
    ours = plan.deck.notetypes[note.notetype]
    update = next((u for u in plan.notetypes if u.notetype.key == note.notetype), None)
    if update is not None and list(update.template_map) != list(range(len(ours.templates))):
        return False
    made = set(note.cards)
    unmade = [card for card in anki.cards if card.ordinal not in made]
    if not unmade or (len(unmade) == len(anki.cards) and not updated):
        return False
    found = False
    for card in unmade:
        delete = delete_cards and (delete_reviewed or not card.reviewed)
        if not delete and card.suspended:
            continue  # suspended by an earlier sync (or by the learner): left as it is
        plan.unmade.append(Unmade(note, card, ours.card_name(card.ordinal), delete))
        found = True
    return found


def _tags(current: Sequence[str], shipped: Sequence[str], shipped_before: Sequence[str]) -> tuple[str, ...] | None:
    """The note's tags after the sync, or None when they stay: the learner's own tags (anything the
    deck did not ship before) are kept; cardsmith's markers from .apkg releases are dropped."""
    ours = {t.casefold() for t in shipped_before} | {MOVED_TAG.casefold(), DELETED_TAG.casefold()}
    kept = [t for t in current if t.casefold() not in ours]
    have = {t.casefold() for t in kept}
    result = kept + [t for t in (_nfc(t) for t in shipped) if t.casefold() not in have]
    if {t.casefold() for t in result} == {t.casefold() for t in current}:
        return None
    return tuple(result)


def _has_tag(tags: Sequence[str], tag: str) -> bool:
    return any(t.casefold() == tag.casefold() for t in tags)


def compare_notetype(ours: NoteType, theirs: AnkiNotetype | None) -> NotetypeUpdate | None:
    """How the collection's note type differs from ours (None: it does not)."""
    if theirs is None:
        return NotetypeUpdate(ours, None)
    field_map, field_schema, field_refused = _match(
        [(f.id, f.name) for f in ours.fields], list(theirs.fields), "field")
    template_map, template_schema, template_refused = _match(
        [(t.id, t.name) for t in ours.templates], [t[:2] for t in theirs.templates], "card template")
    refused = field_refused + template_refused
    if theirs.cloze != (ours.kind == "cloze"):
        refused.append("a cloze note type and a standard one cannot become each other")
    text = ours.css != theirs.css or any(
        index is None or (mine.front, mine.back) != theirs.templates[index][2:]
        for mine, index in zip(ours.templates, template_map))
    schema = field_schema + template_schema
    if not (text or schema or refused):
        return None
    return NotetypeUpdate(ours, theirs, tuple(field_map), tuple(template_map), tuple(schema), tuple(refused))


def _match(ours: list[tuple[int, str]], theirs: list[tuple[int | None, str]], what: str
           ) -> tuple[list[int | None], list[str], list[str]]:
    """Pair our fields (or templates) with Anki's, by id and else by name; say what changes."""
    free = dict(enumerate(theirs))
    found: list[int | None] = []
    for key, name in ours:
        match = next((i for i, (k, _) in free.items() if k == key), None)
        if match is None:
            match = next((i for i, (_, n) in free.items() if n.casefold() == name.casefold()), None)
        if match is not None:
            del free[match]
        found.append(match)
    schema, refused = [], []
    for (_, name), index in zip(ours, found):
        if index is None:
            schema.append(f"adds {what} '{name}'")
        elif theirs[index][1] != name:
            schema.append(f"renames {what} '{theirs[index][1]}' to '{name}'")
    if not free and [i for i in found if i is not None] != sorted(i for i in found if i is not None):
        schema.append(f"reorders the {what}s")
    refused += [f"removes {what} '{name}'" for _, (_, name) in sorted(free.items())]
    return found, schema, refused


def notetype_problems(plans: Sequence[Plan], allow_schema_change: bool) -> list[Problem]:
    """Note-type changes a sync does not make (or only with --allow-schema-change), as problems."""
    problems = []
    for plan in plans:
        for update in plan.notetypes:
            where = f"templates/{update.notetype.key}/notetype.yaml"
            if update.refused:
                problems.append(Problem(where, 1, (
                    f"note type '{update.notetype.name}' in the collection cannot be changed to this one: "
                    f"{'; '.join(update.refused)}. That would delete cards, review history or note text in "
                    "Anki; keep the field or template, or add a new note type for new cards")))
            elif update.schema and not allow_schema_change:
                problems.append(Problem(where, 1, (
                    f"note type '{update.notetype.name}': this change {', '.join(update.schema)}, which changes "
                    "the collection's schema: Anki then needs a full sync with AnkiWeb (the next sync uploads "
                    "the whole collection, replacing AnkiWeb's copy, and other devices must download it; "
                    "reviews made elsewhere and not yet synced are lost). Sync those devices first, then "
                    "run again with --allow-schema-change")))
    return problems
