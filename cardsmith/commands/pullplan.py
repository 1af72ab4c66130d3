"""What `cardsmith pull` brings back from a collection: each note of a deck in three versions, field by field.

    base    what the last sync or pull put into that collection (the sync record: a hash per field and the
            tags), else what was released (the lock: a hash of the whole note, which says whether a side
            changed since, not which field)
    anki    the note as the collection holds it
    source  the note as the current sources build it

A field changed only in Anki is pulled; changed only in the source, left for the next build or sync to ship;
changed on both sides (to different HTML), a conflict, unless `take` says which side wins. Tags the same, per
tag, for the tags whose top level (before the first `::`) the deck ships: the learner's other tags stay theirs.
Pure: no files, no Anki.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from ..model import DeckBuild, Note, content_hash
from ..notetypes import NoteType
from ..release import DELETED_TAG
from .syncplan import AnkiNote, RecordedNote, Snapshot, field_hashes

OWN_TOP = DELETED_TAG.split("::")[0]  # cardsmith's own markers are never the deck's tags


class Base(NamedTuple):
    """The common ancestor of a note's two versions: a hash per field, and its tags."""

    fields: tuple[str, ...]
    tags: tuple[str, ...]


class Conflict(NamedTuple):
    """A field (or the tags: `index` -1) that differs in Anki and in the source, with no way to tell who is right."""

    index: int
    anki: str  # Anki's HTML (or its tags, space-separated)
    source: str  # the source's HTML (or its tags)


@dataclass(frozen=True)
class NotePull:
    """One note to write into its card file, or whose conflicts to report."""

    note: Note
    anki: AnkiNote
    fields: tuple[tuple[int, str], ...] = ()  # (field index, Anki's HTML) to write into the source
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    conflicts: tuple[Conflict, ...] = ()  # left as they are (no `take`)
    taken: int = 0  # conflicts resolved by `take`
    known_base: bool = True  # False: no record of the collection's version, only the release's hash

    @property
    def writes(self) -> bool:
        return bool(self.fields or self.add_tags or self.remove_tags)


@dataclass
class DeckPull:
    """Everything a pull finds for one deck."""

    build: DeckBuild
    snapshot: Snapshot  # what the collection holds of the deck
    notetypes: dict[str, NoteType] = field(default_factory=dict)  # the project's
    tops: set[str] = field(default_factory=set)  # the top levels of the deck's tags (owned_tops)
    pulls: list[NotePull] = field(default_factory=list)  # something to write, or conflicts
    source_only: list[Note] = field(default_factory=list)  # changed in the source only: the next sync ships it
    new: list[AnkiNote] = field(default_factory=list)  # added in Anki to the deck
    deleted: list[Note] = field(default_factory=list)  # deleted in Anki after a sync or pull put it there
    absent: list[Note] = field(default_factory=list)  # released, not in the collection: deleted, or never there
    skipped: list[tuple[Note, str]] = field(default_factory=list)  # (note, why): not compared, reported
    unchanged: int = 0
    record_ignored: bool = False  # the record names none of the collection's notes: another collection's
    take: str | None = None  # which side won the conflicts

    @property
    def conflicts(self) -> int:
        return sum(len(p.conflicts) for p in self.pulls)


def owned_tops(build: DeckBuild, record: dict[str, RecordedNote]) -> set[str]:
    """The top levels of the tags the deck ships (and shipped), case-folded: tags under them are the deck's."""
    tops = {top(tag) for note in build.notes for tag in note.tags}
    tops.update(top(tag) for entry in record.values() for tag in entry.tags)
    tops.discard(OWN_TOP)
    return tops


def top(tag: str) -> str:
    return tag.split("::")[0].casefold()


def plan_pull(build: DeckBuild, snapshot: Snapshot, record: dict[str, RecordedNote], released: dict[str, dict],
              known: set[str], notetypes: dict[str, NoteType], take: str | None = None) -> DeckPull:
    """Compare every note of the deck's build with the collection's version and their base.

    `released`: card id -> its lock record (hash, guid); `known`: every GUID the project uses or released
    (a note with another GUID in the deck's decks is new); `notetypes`: the project's.
    """
    plan = DeckPull(build, snapshot, notetypes, take=take)
    if record and not any(guid in snapshot.notes for guid in record):
        plan.record_ignored, record = True, {}
    plan.tops = tops = owned_tops(build, record)
    for note in build.notes:
        anki = snapshot.notes.get(note.guid)
        if anki is None:
            entry = record.get(note.guid)
            if entry is not None and not entry.deleted:
                plan.deleted.append(note)
            elif note.card_id in released:
                plan.absent.append(note)
            continue
        notetype = notetypes[note.note_type]
        if anki.notetype_id != notetype.model_id:
            plan.skipped.append((note, f"its note in Anki has another note type (id {anki.notetype_id}): change it "
                                       "back in Anki, or give the card a new id"))
            continue
        if len(anki.fields) != len(note.fields):
            plan.skipped.append((note, f"its note type was changed in Anki ({len(anki.fields)} fields; the project's "
                                       f"'{notetype.key}' has {len(note.fields)}): the note is not compared until they "
                                       "agree (`cardsmith sync --allow-schema-change` puts the project's back)"))
            continue
        owned = tuple(t for t in anki.tags if top(t) in tops)
        base = base_of(note, anki, owned, record.get(note.guid), released.get(note.card_id))
        pull = compare(note, anki, owned, base, take)
        if pull.writes or pull.conflicts:
            plan.pulls.append(pull)
        elif _source_changed(note, anki, owned):
            plan.source_only.append(note)
        else:
            plan.unchanged += 1
    plan.new = sorted((n for guid, n in snapshot.notes.items() if guid not in known), key=lambda n: n.note_id)
    return plan


def base_of(note: Note, anki: AnkiNote, owned: Sequence[str], recorded: RecordedNote | None,
            released: dict | None) -> Base | None:
    """The note's common ancestor: the record's, else the release's when the lock's hash shows one side is it."""
    if recorded is not None and not recorded.deleted and len(recorded.fields) == len(note.fields):
        return Base(recorded.fields, recorded.tags)
    if released is None or released.get("guid") != note.guid:
        return None
    if released["hash"] == note.content_hash:  # the source is the release: every difference is Anki's
        return Base(field_hashes(note.fields), note.tags)
    for tags in (owned, note.tags):
        # Anki has the release (a file kept under its own name counts by its content, as the build hashed it)
        if content_hash(note.note_type, anki.fields, tuple(tags), note.media) == released["hash"]:
            return Base(field_hashes(anki.fields), tuple(tags))
    return None


def compare(note: Note, anki: AnkiNote, owned: Sequence[str], base: Base | None, take: str | None) -> NotePull:
    """The three-way comparison of one note: what to write into the source, and the conflicts."""
    fields, conflicts, taken = [], [], 0
    theirs, ours = field_hashes(anki.fields), field_hashes(note.fields)
    for index, (a, s) in enumerate(zip(theirs, ours)):
        if a == s or (base is not None and a == base.fields[index]):
            continue  # the same, or changed in the source only
        if base is not None and s == base.fields[index]:
            fields.append((index, anki.fields[index]))
        elif take is None:
            conflicts.append(Conflict(index, anki.fields[index], note.fields[index]))
        else:
            taken += 1
            if take == "anki":
                fields.append((index, anki.fields[index]))
    add, remove = [], []
    mine, have = {t.casefold() for t in note.tags}, {t.casefold() for t in owned}
    if base is not None:
        before = {t.casefold() for t in base.tags}
        add = [t for t in owned if t.casefold() not in mine and t.casefold() not in before]
        remove = [t for t in note.tags if t.casefold() in before and t.casefold() not in have]
    elif mine != have:
        if take is None:
            conflicts.append(Conflict(-1, " ".join(owned), " ".join(note.tags)))
        else:
            taken += 1
            if take == "anki":
                add = [t for t in owned if t.casefold() not in mine]
                remove = [t for t in note.tags if t.casefold() not in have]
    return NotePull(note, anki, tuple(fields), tuple(add), tuple(remove), tuple(conflicts), taken, base is not None)


def _source_changed(note: Note, anki: AnkiNote, owned: Sequence[str]) -> bool:
    """Whether the source differs from Anki (nothing to pull: the next build or sync ships it)."""
    return field_hashes(anki.fields) != field_hashes(note.fields) or \
        {t.casefold() for t in owned} != {t.casefold() for t in note.tags}
