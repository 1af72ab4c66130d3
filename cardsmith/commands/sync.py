"""`cardsmith sync`: put the decks' current build into a learner's collection directly.

    shipped_decks  what a build would ship (shipped_notes: the one adapter to the card model)
    Target.snapshot  what the collection holds of it   (anki_collection.py, ankiconnect.py)
    plan_deck      what changes                        (syncplan.py, pure)
    Target.apply   the changes, in one transaction where Anki allows it
    save_record    what was synced, for the next sync  (syncrecord.py)
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, Sequence

from ..config import DeckConfig
from ..errors import BuildError, Problem
from ..ledger import Ledger
from ..lockfile import read_lock
from ..model import DeckBuild
from ..package import NoteSpec, write_package
from ..pipeline import Project
from .syncplan import (Plan, RecordedNote, ShippedDeck, ShippedNote, Snapshot, field_hashes, notetype_problems,
                       plan_deck)
from .syncrecord import load_record, save_record

PAUSE_ENV = "CARDSMITH_TEST_SYNC_PAUSE"  # tests only: seconds to sleep in the middle of the changes


class SyncError(Exception):
    """A sync that stopped after changing part of the collection: `lines` say what was applied."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


class Target(Protocol):
    """A collection to sync into: a collection file, or a running Anki through AnkiConnect."""

    label: str  # for messages
    key: str  # the collection file's path: names its sync record
    deletes_cards: bool  # whether it can delete one card of a note (else such a card is suspended)

    def snapshot(self, deck: ShippedDeck, guids: set[str]) -> Snapshot: ...

    def deck_guids(self, name: str) -> set[str]: ...  # the notes with a card in the deck or its subdecks

    def apply(self, plans: Sequence[Plan], progress: Callable[[int], None]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    delete_reviewed: bool = False
    allow_schema_change: bool = False
    restore_deleted: bool = False


@dataclass(frozen=True)
class SyncResult:
    target: str
    plans: list[Plan]
    seconds: float
    record: Path | None  # the sync record written; None after a dry run


def shipped_decks(project: Project, decks: Sequence[DeckConfig],
                  progress: Callable[[int], None] | None = None) -> list[ShippedDeck]:
    """What a build of each deck would ship, and what its releases shipped (from the lock file).

    Raises BuildError with every problem of the sources, as a build does.
    """
    builds, problems = project.prepare_all(list(decks), progress)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BuildError(errors)
    live = project.live_guids(builds)  # of every deck of the project, whichever are synced
    return [shipped_deck(project, build, live) for build in builds]


def shipped_deck(project: Project, build: DeckBuild, live: set[str]) -> ShippedDeck:
    """What a build of one deck ships, and what its releases shipped (`live`: the GUIDs live in any deck of the
    project, never gone from this one: Project.live_guids)."""
    notes = shipped_notes(build)
    used = sorted({n.notetype for n in notes})
    return ShippedDeck(build.config, notes, {k: project.notetypes[k] for k in used}, build.media,
                       _released(project, build.config), frozenset(live.difference(n.guid for n in notes)))


def shipped_notes(build: DeckBuild) -> tuple[ShippedNote, ...]:
    """A deck's notes as a sync ships them: the one adapter from the card model to the sync's records."""
    return tuple(ShippedNote(note.card_id, note.guid, note.note_type, note.fields, note.tags, note.subdeck,
                             f"{note.shown_path}:{note.id_line}", tuple(m.name for m in note.media), note.cards)
                 for note in build.notes)


def _released(project: Project, deck: DeckConfig) -> dict[str, tuple[str, tuple[str, ...]]]:
    """GUID -> (card id, decks the releases put it in) of every card the deck's lock file records."""
    ledger = deck_ledger(project, deck)
    released = {record["guid"]: (card_id, tuple(d for d in (record.get("subdeck"), record.get("moved_from")) if d))
                for card_id, record in ledger.cards.items()}
    for card_id, record in ledger.deleted.items():
        released.setdefault(record["guid"], (card_id, ()))
    return released


def deck_ledger(project: Project, deck: DeckConfig) -> Ledger:
    """The deck's lock file, checked as a build checks it (raises BuildError)."""
    return read_lock(deck.lock_path, project.shown(deck.lock_path), deck.deck_id, project.shown(deck.path),
                     int(time.time())).ledger


def open_target(collection: Path | None, url: str | None, read_only: bool = False,
                verb: str = "Syncing into") -> tuple[Target, str | None]:
    """The collection to sync into (or pull from: `verb`), and a line saying which when it was not named
    (`read_only`: a dry run's, which changes nothing: a collection file is copied and the copy opened)."""
    if collection is not None and url is not None:
        raise BuildError([Problem("sync", 0, "give --collection or --anki-connect, not both")])
    if url is not None:
        from ..anki.connect import connect

        if not url.startswith(("http://", "https://")):
            raise BuildError([Problem("sync", 0, f"--anki-connect takes a URL (http://…), not '{url}': name the "
                                                 "decks before the option, or give the URL after it")])

        return connect(url), None
    notice = None
    if collection is None:
        from ..anki.profiles import anki_base, default_collection

        collection, which = default_collection(anki_base())
        notice = f"{verb} the collection of Anki {which}: {collection}"
    from ..anki.collection import open_collection

    return open_collection(collection, read_only), notice


def sync(project: Project, decks: Sequence[DeckConfig], opener: Callable[[], Target], options: SyncOptions,
         progress: Callable[[int], None] | None = None) -> SyncResult:
    """Build, open the target (only once the sources are fine), plan, refuse what must be refused,
    apply, record; the target is closed whatever happens."""
    shipped = shipped_decks(project, decks, progress)
    target = opener()
    try:
        return _sync(project, shipped, target, options, progress)
    finally:
        target.close()


def _sync(project: Project, shipped: list[ShippedDeck], target: Target, options: SyncOptions,
          progress: Callable[[int], None] | None) -> SyncResult:
    started = time.perf_counter()
    record = load_record(project.root, target.key)
    plans = []
    for deck in shipped:
        recorded = record.decks.get(deck.config.deck_id, {})
        guids = {n.guid for n in deck.notes}
        moved_in = {g: n for other, notes in record.decks.items() if other != deck.config.deck_id
                    for g, n in notes.items() if g in guids and g not in recorded}
        recorded = {**moved_in, **recorded} if moved_in else recorded  # a note another deck's sync put there
        guids = {n.guid for n in deck.notes} | set(deck.released) | set(recorded)
        plans.append(plan_deck(deck, target.snapshot(deck, guids), recorded, options.delete_reviewed,
                               options.restore_deleted, target.deletes_cards))
    seen: set[int] = set()
    for plan in plans:  # a note type two decks share is changed (and told) once, with the first
        plan.notetypes = [u for u in plan.notetypes if u.notetype.model_id not in seen]
        seen.update(u.notetype.model_id for u in plan.notetypes)
    problems = notetype_problems(plans, options.allow_schema_change)
    if problems:
        raise BuildError(problems)
    if options.dry_run:
        return SyncResult(target.label, plans, time.perf_counter() - started, None)
    if any(plan.steps for plan in plans):
        if progress is not None and hasattr(progress, "set_total"):  # the files read, then the changes
            progress.set_total(progress.total + sum(plan.steps for plan in plans))
        target.apply(plans, progress or (lambda count=1: None))
    save_record(record, {p.deck.config.deck_id: (p.deck.config.name, synced_record(
        p, {} if p.record_ignored else record.decks.get(p.deck.config.deck_id, {}))) for p in plans})
    return SyncResult(target.label, plans, time.perf_counter() - started, record.path)


def synced_record(plan: Plan, old: dict[str, RecordedNote]) -> dict[str, RecordedNote]:
    """The deck's record after `plan` was applied."""
    skipped = {note.guid for note, _ in plan.skipped} | {note.guid for note in plan.deleted_in_anki}
    result = {}
    for note in plan.deck.notes:
        if note.guid in skipped:
            if note.guid in old:
                result[note.guid] = old[note.guid]
            continue
        result[note.guid] = RecordedNote(note.card_id, field_hashes(note.fields), note.tags, note.deck)
    for removal in plan.suspended:
        prior = old.get(removal.anki.guid)
        result[removal.anki.guid] = RecordedNote(removal.card_id, prior.fields if prior else (),
                                                 prior.tags if prior else (), prior.deck if prior else "", True)
    for guid in plan.parked:
        prior = old.get(guid)
        if prior is not None:
            result[guid] = RecordedNote(prior.card_id, prior.fields, prior.tags, prior.deck, True)
    for guid in plan.deck.elsewhere.intersection(old):  # moved to another deck: kept until that deck's sync takes it
        result.setdefault(guid, old[guid])
    return result


def write_additions(path: Path, plan: Plan, notetype_mods: dict[str, int]) -> None:
    """The plan's new notes as an .apkg, for Anki's own importer (it keeps GUIDs and note type ids)."""
    deck = plan.deck
    now = int(time.time())
    notes = [NoteSpec(n.guid, n.notetype, n.fields, n.tags, n.deck, now, n.cards) for n in plan.added]
    used = sorted({n.notetype for n in plan.added})
    media = {name: deck.media[name] for n in plan.added for name in n.media}
    write_package(path, deck.config.deck_id, deck.config.name, deck.config.description, notes, deck.notetypes,
                  {key: notetype_mods.get(key, now) for key in used}, media)


def pause_for_tests() -> None:
    """Tests only (`CARDSMITH_TEST_SYNC_PAUSE=seconds`): stop in the middle of the changes, to be killed there."""
    seconds = os.environ.get(PAUSE_ENV, "")
    if seconds:
        print("cardsmith: paused in the middle of the sync (test hook)", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def report_lines(result: SyncResult, verbose: bool) -> list[str]:
    """The summary line per deck, like `build`'s, one line per change worth telling, and the outcome."""
    lines = []
    for plan in result.plans:
        lines.append(f"{plan.deck.config.name}: {plan.counts()}")
        lines += ["  " + line for line in plan.details(verbose)]
    if result.record is None:
        lines.append(f"Dry run: nothing was changed in {result.target}.")
    elif any(plan.steps for plan in result.plans):
        lines.append(f"Synced into {result.target} ({result.seconds:.1f} s).")
    else:
        lines.append(f"{result.target} is up to date: nothing to change.")
    return lines
