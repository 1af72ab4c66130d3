"""Runs the stages for a project: config -> parse -> resolve -> render -> (cards) -> release -> package.

`Project.prepare` is the one path from card files to a deck's notes (a DeckBuild); every command
consumes its result: `build` releases and packages it, `check` plans the release without writing it,
`preview`, `export` and `sync` read its notes. The render cache (cache.py) memoises the stages.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

from .boundary import Boundary, outside
from .cache import Loaded, RenderCache, built_key, default_dir, file_progress, render_notes
from .config import DeckConfig, load_decks
from .errors import BuildError, Problem, display_path
from .files import utf8_name
from .ledger import build_time
from .model import DeckBuild, Identity, Note, ResolvedNote
from .notetypes import load_notetypes
from .parse import parse_bytes, parse_file
from .release import DeckResult, Release
from .render import Renderer, folder_media, media_collisions
from .resolve import Resolver, guid, make_note


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
        self._identities: dict[Path, tuple[Identity, ...]] = {}  # per deck file: its cards' GUIDs (see identified)

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
        media = deck.media_folder
        for pattern in deck.card_globs:
            for path in sorted((self.root / "cards").glob(pattern)):
                if path in found or path.is_dir():  # anything else is read, or refused saying why
                    continue
                if media is not None and path.parent == media:
                    continue  # a media file named x.md is no card file
                shown = self.shown(path)
                if not self.boundary.contains(path):  # a symlink, or a folder that is one
                    problems.append(Problem(shown, 1, outside("card file", shown)))
                elif not utf8_name(shown):
                    problems.append(Problem(shown, 1, "file name is not valid UTF-8: rename the file"))
                else:
                    found[path] = None
        return list(found), problems

    def load(self, deck: DeckConfig, built: bool = True) -> list[Loaded]:
        """The deck's card files through the cache: built when it has them (and `built`), else parsed."""
        named = [(path, self.shown(path)) for path in self.deck_files(deck)]
        if self.cache is None:
            return [Loaded(path, shown, parsed=parse_file(path, shown)) for path, shown in named]
        key = built_key(deck, self.notetypes, self.cache.config) if built else ""
        return self.cache.load_files(named, self.renderer, parse_bytes, key)

    def prepare(self, deck: DeckConfig, progress: Callable[[int], None] | None = None) -> DeckBuild:
        """Parse, resolve and render one deck into its notes, collecting every problem; `progress(1)` after each file.

        A card file the cache holds built for this deck and these note types comes back as its notes.
        """
        started = time.perf_counter()
        files = self.deck_files(deck)
        problems: list[Problem] = list(self._files[deck.path][1])
        if not files and not problems:
            problems.append(Problem(self.shown(deck.path), 1, "'cards' patterns match no files under cards/"))
        resolver = Resolver(deck, self.notetypes)
        seen: dict[str, tuple[str, int]] = {}  # card id -> where it is first used
        pending: list[ResolvedNote] = []  # to render, in order
        # per file: where the cache keeps it built, its notes (built) or notes to render, its problems, and how
        # many cards it has (its parse is not kept: a large deck's Markdown would be in memory twice)
        chosen: list[tuple[Loaded, list[Note] | list[ResolvedNote], list[Problem], int]] = []
        ends: list[int] = []  # notes to render up to each file, for progress
        for loaded in self.load(deck):
            found: list[Problem] = []
            if loaded.built is not None:
                built, warnings = loaded.built
                found += warnings
                chosen.append((loaded, [n for n in built if _first(n.card_id, n.shown_path, n.id_line, seen, found)],
                               found, len(built)))
            else:
                parsed = loaded.parsed
                assert parsed is not None
                found += parsed.problems
                resolved = []
                for source in parsed.notes:
                    note, said = resolver.resolve(source)
                    found += said
                    if note and _first(source.card_id, source.shown_path, source.id_line, seen, found):
                        resolved.append(note)
                pending += resolved
                chosen.append((replace(loaded, parsed=None), resolved, found, len(parsed.notes)))
            ends.append(len(pending))
        rendered = iter(render_notes(self.renderer, pending, self.cache, file_progress(progress, ends)))
        del pending
        notes: list[Note] = []
        keep = []  # files to store built: all their cards became notes, and nothing was wrong in them
        for loaded, items, found, count in chosen:
            if loaded.built is not None:
                notes += items  # type: ignore[arg-type]
                problems += found
                continue
            made = []
            for resolved in items:
                result, said = next(rendered)
                found += said
                if result is not None:
                    note, said = make_note(resolved, result, self.notetypes[resolved.note_type])
                    found += said
                    if note is not None:
                        made.append(note)
            notes += made
            problems += found
            if len(made) == count and not any(p.severity == "error" for p in found):
                keep.append((loaded, made, found))
        if keep and self.cache:
            self.cache.store_built(keep)
        extra, found = folder_media(deck, self.renderer, self.shown(deck.path))
        problems += found + media_collisions([(m, self.shown(deck.path), 1) for m in extra] + [
            (m, n.shown_path, n.id_line) for n in notes for m in n.media], self.renderer)
        return DeckBuild(deck, tuple(notes), tuple(files), tuple(problems), time.perf_counter() - started, extra)

    def prepare_all(self, decks: list[DeckConfig], progress: Callable[[int], None] | None = None
                    ) -> tuple[list[DeckBuild], list[Problem]]:
        """Every deck named, prepared, and every problem: each deck's, and those between it and any deck of the
        project (the others only identified: `build DECK` must not ship a note another deck has too)."""
        builds = [self.prepare(deck, progress) for deck in decks]
        problems = [p for build in builds for p in build.problems] + self.identity_problems(builds)
        return builds, problems

    def identified(self, deck: DeckConfig) -> tuple[Identity, ...]:
        """Who the deck's cards are in Anki (their GUIDs), without rendering them: what the checks between decks
        need of a deck that is not being built. Its own problems are its build's to report."""
        if deck.path not in self._identities:
            found: list[Identity] = []
            for loaded in self.load(deck):
                if loaded.built is not None:
                    found += (Identity(n.card_id, n.guid, n.shown_path, n.id_line) for n in loaded.built[0])
                    continue
                for source in loaded.parsed.notes if loaded.parsed else ():
                    if source.note_type in self.notetypes:
                        found.append(Identity(source.card_id, guid(deck, source), source.shown_path, source.id_line))
            self._identities[deck.path] = tuple(found)
        return self._identities[deck.path]

    def identity_problems(self, builds: list[DeckBuild]) -> list[Problem]:
        """A card file taken by two decks, or two cards that would be one Anki note (by their GUIDs): between the
        decks built, and between them and the project's other decks."""
        built = {build.config.path for build in builds}
        decks = [(build.config, build.files, build.notes) for build in builds]
        decks += [(deck, tuple(self.deck_files(deck)), self.identified(deck))
                  for deck in self.decks if deck.path not in built]
        problems = []
        taken: dict[Path, DeckConfig] = {}
        for deck, files, _ in decks:
            for path in files:
                other = taken.setdefault(path, deck)
                if other is not deck and (deck.path in built or other.path in built):
                    problems.append(Problem(self.shown(deck.path), 1,
                                            f"{self.shown(path)} is also taken by {self.shown(other.path)}; "
                                            "a card file belongs to one deck"))
        owners: dict[str, tuple[DeckConfig, Identity | Note]] = {}
        for deck, _, notes in decks:
            for note in notes:
                other, owner = owners.setdefault(note.guid, (deck, note))
                if owner is not note and (deck.path in built or other.path in built):
                    problems.append(Problem(note.shown_path, note.id_line,
                                            f"card '{note.card_id}' would be the same Anki note as "
                                            f"'{owner.card_id}' at {owner.shown_path}:{owner.id_line}"))
        return problems

    def live_guids(self, builds: list[DeckBuild]) -> set[str]:
        """The GUIDs of every card in the sources of every deck: none of them may be shipped as deleted."""
        built = {build.config.path for build in builds}
        live = {note.guid for build in builds for note in build.notes}
        live.update(i.guid for deck in self.decks if deck.path not in built for i in self.identified(deck))
        return live

    def releases(self, builds: list[DeckBuild], frozen: bool = False, allow_deletions: bool = False) -> list[Release]:
        """Each deck's release, planned from its lock; raise BuildError with everything a build would refuse."""
        now = build_time()
        live = self.live_guids(builds)
        releases, problems = [], []
        for build in builds:
            try:
                release = Release.plan(build, self.notetypes, now, live, self.shown)
            except BuildError as error:
                problems += error.problems
                continue
            problems += release.problems(frozen, allow_deletions)
            releases.append(release)
        if problems:
            raise BuildError(problems)
        return releases

    def build(self, out_dir: Path, frozen: bool = False, only: list[str] | None = None,
              progress: Callable[[int], None] | None = None, allow_deletions: bool = False) -> list[DeckResult]:
        """Build every deck (or those named in `only`); raise BuildError on any problem.

        Every deck is checked (sources, lock, deletions) before any is written.
        """
        builds, problems = self.prepare_all(self.selected(only), progress)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise BuildError(errors)
        releases = self.releases(builds, frozen, allow_deletions)
        if self.cache:
            self.cache.close()  # written back into its file: `check` reads only that
        return [release.write(out_dir, frozen, rewrite=self.cache is None) for release in releases]


def _first(card_id: str, shown: str, line: int, seen: dict[str, tuple[str, int]], problems: list[Problem]) -> bool:
    """Whether this is the first card with this id in the deck (else a problem says where the first is)."""
    first = seen.setdefault(card_id, (shown, line))
    if first != (shown, line):
        problems.append(Problem(shown, line, f"duplicate id '{card_id}' (first used at {first[0]}:{first[1]})"))
        return False
    return True
