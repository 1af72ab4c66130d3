"""Runs the stages for every deck: parse -> render -> ledger -> package."""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import genanki

from . import __version__
from .boundary import Boundary, outside
from .cache import Loaded, RenderCache, default_dir, file_progress, render_cards
from .config import DeckConfig, load_decks
from .errors import BuildError, Problem, display_path
from .files import remove_stale, write_atomic
from .ledger import Changes, Ledger, build_time
from .release import Release
from .notetypes import load_notetypes
from .package import NoteSpec, write_package
from .parse import SourceCard, parse_file
from .render import Media, RenderedCard, Renderer, deletion_problems

DELETED_TAG = "cardsmith::deleted"
MOVED_TAG = "cardsmith::moved"
DELETED_SUBDECK = "Deleted cards"


class Note(NamedTuple):
    """A card as a build packages it: rendered, identified and placed (the ledger's Entry too).

    A tuple, as what the cache keeps of a built file: 10,000 of them load three times faster
    than the same cards as objects.
    """

    card_id: str
    guid: str
    note_type: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    subdeck: str  # the full deck name
    media: tuple[Media, ...]
    content_hash: str
    shown_path: str  # where the card is, for messages
    id_line: int


@dataclass
class DeckBuild:
    """Everything known about one deck after parsing and rendering."""

    config: DeckConfig
    cards: list[RenderedCard] = field(default_factory=list)  # with their Markdown (not for a build)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0  # time spent parsing and rendering
    notes: list[Note] = field(default_factory=list)  # a build's cards, in order
    sources: list[SourceCard] = field(default_factory=list)  # every parsed card, rendered or not (not for a build)


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

    def summary(self, root: Path) -> str:
        shown = display_path(self.output, root)
        if self.up_to_date:
            return f"{self.config.name}: up to date ({self.notes} notes) -> {shown}"
        return (f"{self.config.name}: {self.cards} cards, {self.notes} notes, {self.media} media"
                f" -> {shown} ({self.seconds:.1f} s)")

    def changes_line(self) -> str:
        c = self.changes
        return (f"{len(c.new)} new, {len(c.changed)} changed, {len(c.unchanged)} unchanged, "
                f"{len(c.deleted)} deleted, {len(c.moved)} moved")

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
        lines += [f"note type changed: {k}" for k in c.notetypes_changed]
        return lines

    def report(self) -> dict:
        c = self.changes
        return {"deck": self.config.name, "output": str(self.output), "cards": self.cards, "notes": self.notes,
                "media": self.media, "up_to_date": self.up_to_date,
                "new": c.new, "changed": c.changed, "unchanged": len(c.unchanged), "deleted": c.deleted,
                "moved": [{"id": i, "from": a, "to": b} for i, a, b in c.moved],
                "notetypes_changed": c.notetypes_changed}


class Project:
    """A cardsmith project folder: decks/, cards/, templates/."""

    def __init__(self, root: Path, cache: bool = True, read_only: bool = False):
        self.root = root
        self.boundary = Boundary(root)
        self.decks = load_decks(root)
        self.notetypes = load_notetypes(root)
        self.renderer = Renderer(self.boundary)
        self.cache = RenderCache(default_dir(root), read_only) if cache else None
        # per deck file: its card files, and the problems of the files it cannot take (see deck_files)
        self._files: dict[Path, tuple[list[Path], list[Problem]]] = {}

    def selected(self, only: list[str] | None) -> list[DeckConfig]:
        """The decks named in `only` (by file name or deck name), or all of them."""
        unknown = [name for name in only or () if not any(name in (d.slug, d.name) for d in self.decks)]
        if unknown:
            raise BuildError([Problem("decks", 0, f"no deck named {', '.join(unknown)}")])
        return [d for d in self.decks if not only or d.slug in only or d.name in only]

    def shown(self, path: Path) -> str:
        return display_path(path, self.root)

    def deck_files(self, deck: DeckConfig) -> list[Path]:
        """The deck's card files, in pattern order (searched once: the progress total and the build both ask)."""
        if deck.path not in self._files:
            self._files[deck.path] = self._find_files(deck)
        return list(self._files[deck.path][0])

    def _find_files(self, deck: DeckConfig) -> tuple[list[Path], list[Problem]]:
        """The files the deck's patterns match, without those it must not read (and why)."""
        found: dict[Path, None] = {}
        problems = []
        for pattern in deck.card_globs:
            for path in sorted((self.root / "cards").glob(pattern)):
                if path in found or not path.is_file():
                    continue
                shown = self.shown(path)
                if not self.boundary.contains(path):  # a symlink, or a folder that is one
                    problems.append(Problem(shown, 1, outside("card file", shown)))
                elif not _utf8(shown):
                    problems.append(Problem(shown, 1, "file name is not valid UTF-8: rename the file"))
                else:
                    found[path] = None
        return list(found), problems

    def subdeck_of(self, deck: DeckConfig, path: Path, card: SourceCard) -> str:
        if card.subdeck:
            return f"{deck.name}::{card.subdeck}"
        if deck.subdecks == "per-file":
            title = re.sub(r"^\d+[-_ ]*", "", path.stem).replace("-", " ").replace("_", " ").strip()
            return f"{deck.name}::{(title or path.stem).capitalize()}"
        return deck.name

    def prepare(self, deck: DeckConfig, progress: Callable[[int], None] | None = None, for_build: bool = False
                ) -> tuple[DeckBuild, list[Problem]]:
        """Parse and render one deck; collect every problem; call `progress(1)` after each file.

        `for_build`: the cards become `build.notes` (what the package needs: no Markdown), and
        card files the cache holds built for this deck are taken whole, without parsing or rendering.
        """
        build = DeckBuild(deck, files=self.deck_files(deck))
        problems: list[Problem] = list(self._files[deck.path][1])
        if not build.files and not problems:
            problems.append(Problem(self.shown(deck.path), 1, "'cards' patterns match no files under cards/"))
        seen: dict[str, SourceCard | Note] = {}  # card id -> its first card
        named = [(path, self.shown(path)) for path in build.files]
        if self.cache:
            files = self.cache.load_files(named, self.renderer, deck if for_build else None, Note)
            # A file built when one of its note types had another kind is checked afresh.
            files = [Loaded(parse_file(*n), loaded.key, loaded.slot)
                     if loaded.built and any(self._kind_mismatch(note) for note in loaded.built) else loaded
                     for loaded, n in zip(files, named)]
        else:
            files = [Loaded(parse_file(*n)) for n in named]
        pending: list[tuple[int, SourceCard]] = []  # cards to render, and where their problems go
        chosen: list[tuple[Loaded, list[int], bool]] = []  # per file: the cards that pass, whether all is well
        ends: list[int] = []  # cards to render up to each file, for progress
        for loaded in files:
            parsed = loaded.parsed
            first_problem = len(problems)
            problems += parsed.problems
            if not for_build:
                build.sources += parsed.cards
            passed = []
            for index, card in enumerate(parsed.cards if loaded.built is None else loaded.built):
                if card.note_type not in self.notetypes:
                    known = ", ".join(sorted(self.notetypes))
                    problems.append(Problem(card.shown_path, card.id_line,
                                            f"unknown note type '{card.note_type}' (known: {known})"))
                    continue
                if loaded.built is None and not card.answer and not self.notetypes[card.note_type].is_cloze:
                    problems.append(Problem(card.shown_path, card.answer_line, "empty answer"))
                    continue
                other = seen.setdefault(card.card_id, card)
                if other is not card:
                    problems.append(Problem(card.shown_path, card.id_line,
                                            f"duplicate id '{card.card_id}' (first used at {other.shown_path}:{other.id_line})"))
                    continue
                passed.append(index)
                if loaded.built is None:
                    pending.append((len(problems), card))
            chosen.append((loaded, passed, len(problems) == first_problem))
            ends.append(len(pending))
        results = render_cards(self.renderer, [card for _, card in pending], self.cache, file_progress(progress, ends))
        for (at, _), (_, found) in reversed([pair for pair in zip(pending, results) if pair[1][1]]):
            problems[at:at] = found  # a card's render problems go after the problems found before it
        rendered = iter(results)
        keep = []  # files to store built: all their cards became notes, and nothing was wrong in them
        for loaded, passed, clean in chosen:
            ready = loaded.built
            if ready is not None:  # taken whole
                build.notes += ready if len(passed) == len(ready) else [ready[i] for i in passed]
                continue
            made = []
            for _ in passed:
                rendered_card, found = next(rendered)
                if rendered_card and self.notetypes[rendered_card.source.note_type].is_cloze:
                    source = rendered_card.source
                    found = deletion_problems(rendered_card.fields[0], source.shown_path, source.line)
                    problems += found
                    rendered_card = None if found else rendered_card
                clean = clean and not found
                if rendered_card and for_build:
                    made.append(self.note(deck, rendered_card))
                elif rendered_card:
                    build.cards.append(rendered_card)
            build.notes += made
            if for_build and clean and len(made) == len(loaded.parsed.cards):
                keep.append((loaded, made))
        if keep and self.cache:
            self.cache.store_built(keep)
        return build, problems

    def _kind_mismatch(self, note: Note) -> bool:
        """Whether a built note breaks its note type's kind (a cloze without deletion, a basic without answer)."""
        notetype = self.notetypes.get(note.note_type)
        if notetype is None:
            return False  # reported as an unknown note type
        if notetype.is_cloze:
            return bool(deletion_problems(note.fields[0], note.shown_path, note.id_line))
        return not note.fields[1]

    def note(self, deck: DeckConfig, rendered: RenderedCard) -> Note:
        """What the package needs of a rendered card."""
        card = rendered.source
        return Note(card.card_id, self.guid(deck, card), card.note_type, rendered.fields, card.tags,
                    self.subdeck_of(deck, card.path, card), rendered.media, rendered.content_hash,
                    card.shown_path, card.id_line)

    def build(self, out_dir: Path, frozen: bool = False, only: list[str] | None = None,
              progress: Callable[[int], None] | None = None, allow_deletions: bool = False) -> list[DeckResult]:
        """Build every deck (or those named in `only`); raise BuildError on any problem.

        Every deck is checked (sources, lock, deletions) before any is written.
        """
        decks = self.selected(only)
        prepared = []
        problems: list[Problem] = []
        for deck in decks:
            started = time.perf_counter()
            build, found = self.prepare(deck, progress, for_build=True)
            build.seconds = time.perf_counter() - started
            problems += found
            prepared.append(build)
        problems += self.identity_problems(prepared)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise BuildError(errors)
        now = build_time()
        live = {note.guid for build in prepared for note in build.notes}
        plans = []
        for build in prepared:
            try:
                plans.append(self._plan(build, now, live, frozen, allow_deletions))
            except BuildError as error:
                problems += error.problems
        if problems:
            raise BuildError(problems)
        if self.cache:
            self.cache.close()  # written back into its file: `check` reads only that
        return [self._write(build, release, out_dir, frozen) for build, release in plans]

    def _plan(self, build: DeckBuild, now: int, live_guids: set[str], frozen: bool, allow_deletions: bool
              ) -> tuple[DeckBuild, Release]:
        """The deck's release, decided from its lock; raise BuildError if the lock or the change is refused."""
        deck = build.config
        used_types = sorted({n.note_type for n in build.notes})
        notetype_hashes = {key: (self.notetypes[key].content_hash(), self.notetypes[key].schema())
                           for key in used_types}
        release = Release.read(deck, build.notes, notetype_hashes, now, live_guids, self.shown)
        refused = self._schema_changes(release.lock.ledger, build.notes, used_types, release.changes.retyped)
        refused += release.problems(build.notes, frozen, allow_deletions)
        if refused:
            raise BuildError(refused)
        return build, release

    def guid(self, deck: DeckConfig, card: SourceCard) -> str:
        """The note's identity: namespaced by the deck's fixed id, never derived from the text."""
        return card.guid or genanki.guid_for(deck.deck_id, card.card_id)

    def identity_problems(self, builds: list[DeckBuild]) -> list[Problem]:
        """A card file taken by two decks, or two cards that would be one Anki note (by the GUIDs prepare gave them)."""
        problems = []
        taken: dict[Path, DeckConfig] = {}
        for build in builds:
            for path in build.files:
                other = taken.setdefault(path, build.config)
                if other is not build.config:
                    problems.append(Problem(self.shown(build.config.path), 1,
                                            f"{self.shown(path)} is also taken by {self.shown(other.path)}; "
                                            "a card file belongs to one deck"))
        owners: dict[str, Note] = {}
        for build in builds:
            for note in build.notes:
                owner = owners.setdefault(note.guid, note)
                if owner is not note:
                    problems.append(Problem(note.shown_path, note.id_line,
                                            f"card '{note.card_id}' would be the same Anki note as "
                                            f"'{owner.card_id}' at {owner.shown_path}:{owner.id_line}"))
        return problems

    def _write(self, build: DeckBuild, release: Release, out_dir: Path, frozen: bool) -> DeckResult:
        started = time.perf_counter()
        new_ledger, changes = release.ledger, release.changes
        deck = build.config
        notes = []
        media = {}
        padding = {key: ("",) * (len(notetype.fields) - 2) for key, notetype in self.notetypes.items()}
        for note in build.notes:
            record = new_ledger.cards[note.card_id]
            tags = note.tags + ((MOVED_TAG,) if record.get("moved_from") else ())
            fields = note.fields + padding[note.note_type]
            notes.append(NoteSpec(note.guid, note.note_type, fields, tags, note.subdeck, record["mod"],
                                  self.notetypes[note.note_type].rule.cards(fields, bool(tags))))
            for item in note.media:
                media[item.name] = item.source
        notes += self._tombstones(deck, new_ledger)
        notetypes_needed = sorted({n.notetype for n in notes})
        notetype_mods = {key: new_ledger.notetypes.get(key, {"mod": new_ledger.latest()})["mod"]
                         for key in notetypes_needed}

        output = out_dir / f"{deck.slug}.apkg"
        remove_stale(output)  # what a killed build left, also when this one writes no package
        fingerprint = self._fingerprint(deck, build.notes, notes[len(build.notes):], new_ledger, notetype_mods, media)
        stamp = out_dir / f".{deck.slug}.stamp"  # the fingerprint of the package, and its live cards
        stamped, _, counted = (stamp.read_bytes().decode("utf-8", "replace") if stamp.exists() and output.exists()
                               else "").partition("\n")
        up_to_date = stamped == fingerprint and counted.strip().isdigit()
        if up_to_date:
            cards = int(counted)
        else:
            write_package(output, deck.deck_id, deck.name, deck.description, notes, self.notetypes, notetype_mods, media)
            cards = sum(len(n.cards) for n in notes[:len(build.notes)])  # the rest are tombstones of deleted cards
            write_atomic(stamp, [f"{fingerprint}\n{cards}\n"])
        if not frozen:  # a --frozen build never changes the lock (not even to add the deck's id)
            new_ledger.write(deck.lock_path)
        return DeckResult(deck, output, cards, len(build.notes), len(media),
                          build.seconds + time.perf_counter() - started, up_to_date, changes, release.notices())

    def _schema_changes(self, ledger: Ledger, notes: list[Note], used_types: list[str],
                        retyped: list[tuple[str, str]]) -> list[Problem]:
        """Changes Anki cannot apply to notes it already has (`retyped`: from Ledger.update): refused,
        with what to do instead."""
        problems = []
        for key in used_types:
            old = ledger.notetypes.get(key, {}).get("schema")
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
        released = dict(retyped)  # card id -> the type it was released as
        for card in notes if released else ():
            if card.card_id in released:
                problems.append(Problem(
                    card.shown_path, card.id_line,
                    f"card '{card.card_id}' was released as a '{released[card.card_id]}' note and Anki will not "
                    f"turn an existing note into a '{card.note_type}' note; keep the type, or give the card a new "
                    "id (the old note is then shipped as deleted)"))
        return problems

    def _tombstones(self, deck: DeckConfig, ledger: Ledger) -> list[NoteSpec]:
        """Deleted cards are re-shipped marked, so one search in Anki finds them all."""
        notes = []
        for card_id, record in sorted(ledger.deleted.items()):
            notetype = record["type"]
            if notetype not in self.notetypes:  # a note type removed since: any will do to say "deleted"
                notetype = "basic" if "basic" in self.notetypes else min(self.notetypes)
            message = (f"<p><b>This card was deleted from the deck</b> (id <code>{html.escape(card_id)}</code>).</p>"
                       f"<p>Delete it in the browser: search <code>tag:{DELETED_TAG}</code>.</p>")
            front = "{{c1::" + message + "}}" if self.notetypes[notetype].kind == "cloze" else message
            fields = [front] + [""] * (len(self.notetypes[notetype].fields) - 1)
            if len(fields) > 1 and self.notetypes[notetype].kind != "cloze":
                fields[1] = message
            notes.append(NoteSpec(record["guid"], notetype, tuple(fields), (DELETED_TAG,),
                                  f"{deck.name}::{DELETED_SUBDECK}", record["mod"],
                                  self.notetypes[notetype].rule.cards(fields, True)))
        return notes

    def _fingerprint(self, deck: DeckConfig, entries: list[Note], tombstones: list[NoteSpec], ledger: Ledger,
                     notetype_mods: dict[str, int], media: dict[str, Path]) -> str:
        """A hash of everything that goes into the package (cards by their content hash)."""
        digest = hashlib.sha256()
        used = {key: self.notetypes[key].content_hash() for key in notetype_mods}
        digest.update(json.dumps([__version__, deck.name, deck.deck_id, deck.description, used, notetype_mods,
                                  sorted(media)]).encode())
        cards = ledger.cards
        digest.update("\n".join("\0".join((e.guid, e.content_hash, e.subdeck, str(cards[e.card_id]["mod"]),
                                             cards[e.card_id].get("moved_from", ""))) for e in entries).encode())
        for note in tombstones:
            digest.update(json.dumps([note.guid, note.notetype, note.fields, note.tags, note.deck,
                                      note.mod]).encode())
        return digest.hexdigest()


def _utf8(name: str) -> bool:
    """Whether a file name was UTF-8 bytes (Python keeps the bytes of any other name as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
