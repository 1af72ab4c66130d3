"""An Anki package (.apkg) -> cardsmith sources whose first build changes nothing for the learners who have it.

Every note keeps its GUID (`guid:` in its id comment) and its fields byte for byte (importnotes.py), its
note type keeps everything Anki stores of it (a folder in templates/, with its ids, templates, CSS,
LaTeX and field options), its media keep their names (the deck's `media:` folder), and the deck's lock
records each note's and note type's original modification time: the first release is "not newer" for
every learner, so Anki updates nothing until the maintainer changes a card.

The package may be hostile (apkg.py reads it). Everything is made first in a staging folder laid out
like the project, read back by the build's own stages, and written only at the end: new files under
--out, templates/ and decks/, never through a symbolic link, never over a file unless --force. A deck,
note type or note the project has already is refused (a note type may be shared with --merge).
"""

from __future__ import annotations

import glob
import os
import re
import signal
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import yaml

from ..anki.apkg import AnkiNote, AnkiNoteType, AnkiPackage, open_package
from ..boundary import Boundary
from ..config import DeckConfig, load_decks
from ..errors import LINE_BREAK_RE, NO_LINE, BuildError, Problem, counted, display_path
from ..ledger import Ledger
from ..model import Note
from ..notetypes import NoteType, load_notetypes
from ..parse import parse_text, slug, tag_text, unique, valid_quoted_tag
from ..render import Renderer
from ..resolve import Resolver
from .ids import slug_for
from .duplicates import near_duplicates
from .importmedia import MissingMedia, unpack_media
from .importnotes import Converter, Converted, card_text, note_problem, plain_text
from .importtypes import existing_notetypes, notetype_keys
from .stage import Stage

MAIN = "main"  # the card file of the notes in a deck's top level
MEDIA = "media"  # the deck's media folder, under --out


@dataclass
class ImportResult:
    """What an import wrote, how each note type's notes were written, and every note it could not keep exactly."""

    package: str
    out: Path
    decks: list[str] = field(default_factory=list)  # the deck files written (their slugs)
    written: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)  # one per note type
    warnings: list[Problem] = field(default_factory=list)  # one per problem, naming the note
    notes: int = 0
    exact: int = 0

    def lines(self, root: Path) -> list[str]:
        shown = [f"wrote {display_path(p, root)}" for p in self.written]
        shown += [f"replaced {display_path(p, root)}" for p in self.replaced]
        shown += [str(w) for w in self.warnings] + self.summaries
        inexact = self.notes - self.exact
        shown.append(f"{counted(self.notes, 'note')} imported" + (
            ": each builds to its original fields, byte for byte" if not inexact else
            f"; {inexact} of them not exactly (see the lines above; learners' copies of them stay as they are "
            "until you change them)"))
        return shown


@dataclass
class _Deck:
    """One top-level deck of the package, as the deck it becomes."""

    name: str
    deck_id: int
    description: str
    slug: str
    folder: Path  # its card files
    pattern: str  # its `cards` glob
    notes: list[AnkiNote] = field(default_factory=list)
    missing: MissingMedia | None = None


def import_apkg(package: Path, out: Path, root: Path, force: bool = False, merge: bool = False) -> ImportResult:
    """Convert `package` into card files under `out` (inside ROOT/cards/), note types, deck files and locks."""
    out = _out_folder(out, root)
    result = ImportResult(str(package), out)
    with _sigterm_cleans_up(), open_package(package) as data, \
            tempfile.TemporaryDirectory(prefix="cardsmith-import-") as workdir:
        stage = Stage(root, Path(workdir))
        if not data.notes:
            raise BuildError([Problem(str(package), 0, "the package holds no notes")])
        decks = _decks(data, out, root)
        result.decks = [deck.slug for deck in decks]
        replaced = {root / "decks" / f"{deck.slug}.yaml" for deck in decks} if force else set()
        _refuse_known(data, decks, root, replaced)
        keys = notetype_keys(data, root, existing_notetypes(root), merge, force, stage)
        media = unpack_media(data, out / MEDIA, stage, result.warnings)
        for deck in decks:
            deck.missing = MissingMedia(deck.notes, media)
            _deck_file(deck, root, out, bool(media), stage)
        notetypes = load_notetypes(stage.folder)
        configs = {config.name: config for config in load_decks(stage.folder)}
        renderer = Renderer(Boundary(stage.folder))
        counts: dict[int, Counter] = {mid: Counter() for mid in keys}
        for deck in decks:
            config = configs[deck.name]
            converter = Converter(Resolver(config, notetypes), renderer)
            records = _card_files(deck, data, keys, notetypes, converter, root, stage, result, counts)
            _lock(config, records, data, keys, notetypes, stage)
            result.warnings += deck.missing.summary(str(package))  # type: ignore[union-attr]
        if not result.notes:
            raise BuildError([Problem(str(package), 0, "no note could be imported")] + result.warnings)
        result.summaries = [_summary(data.notetypes[mid], keys[mid], counts[mid]) for mid in sorted(keys)
                            if counts[mid]["notes"]]
        result.written, result.replaced = stage.commit(force)
    return result


@contextmanager
def _sigterm_cleans_up() -> Iterator[None]:
    """SIGTERM ends the import as an error would: every temporary folder is removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _out_folder(out: Path, root: Path) -> Path:
    """--out as a path under ROOT/cards/ (without following links)."""
    cards = Path(os.path.abspath(root / "cards"))
    try:
        relative = Path(os.path.abspath(out)).relative_to(cards)
    except ValueError:
        raise BuildError([Problem(str(out), 0, f"--out must be a folder inside {display_path(root / 'cards')}/")])
    if not relative.parts:
        raise BuildError([Problem(str(out), 0, "--out must be a sub-folder of cards/, e.g. cards/<name>/")])
    return root / "cards" / relative


def _decks(data: AnkiPackage, out: Path, root: Path) -> list[_Deck]:
    """One deck per top-level deck of the notes (its subdecks in card files of their own), in --out (or, when
    there are several, a folder each in it)."""
    ids = {name: deck_id for deck_id, (name, _) in data.collection.decks.items()}
    tops: dict[str, list[AnkiNote]] = {}
    for note in data.notes:
        tops.setdefault(_deck_name(note.deck).split("::")[0], []).append(note)
    decks, slugs = [], {MEDIA}
    for name in sorted(tops):
        deck_slug = slug(out.name) or "imported"
        folder = out
        if len(tops) > 1:
            folder = out / unique(_file_slug(name), slugs)
            deck_slug = f"{deck_slug}-{folder.name}"
        pattern = glob.escape(folder.relative_to(root / "cards").as_posix()) + "/*.md"
        description = next((d for n, d in data.collection.decks.values() if n == name), "")
        decks.append(_Deck(name, ids.get(name) or _fallback_id(name), description, deck_slug, folder, pattern,
                           tops[name]))
    return decks


def _fallback_id(name: str) -> int:
    """A deck id for a deck the package names but does not list (Anki matches decks by name, not id)."""
    return (1 << 30) + int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "big") % (1 << 30)


def _refuse_known(data: AnkiPackage, decks: list[_Deck], root: Path, replaced: set[Path]) -> None:
    """A deck (by name or id) or note (by GUID) the project has already is refused: in a learner's Anki they would
    be one. A deck whose file this import replaces (--force) is not counted: it is the one being imported again."""
    if not any((root / "decks").glob("*.y*ml")):
        return
    from ..pipeline import Project  # the project's own rules for which card files a deck takes
    from ..resolve import guid

    try:
        project = Project(root, cache=False)
    except BuildError as error:
        raise BuildError(error.problems + [Problem("decks", NO_LINE, "the project has errors: `import` checks the new "
                                                   "decks against the project's, so fix these first")])
    problems = []
    for other in project.decks:
        if other.path in replaced:
            continue
        for deck in decks:
            if other.name == deck.name or other.deck_id == deck.deck_id:
                problems.append(Problem(project.shown(other.path), 1, (
                    f"the project has the deck '{other.name}' (id {other.deck_id}) already, and the package's deck "
                    f"'{deck.name}' (id {deck.deck_id}) would be the same deck in Anki, which knows decks by name. "
                    "Was this package imported before? (`--force` imports it again over its own files)")))
    wanted = {note.guid: note for note in data.notes}
    for other in project.decks:
        for loaded in project.load(other, built=False) if other.path not in replaced else ():
            for source in loaded.parsed.notes if loaded.parsed else ():
                note = wanted.get(guid(other, source))
                if note is not None:
                    problems.append(Problem(source.shown_path, source.id_line, (
                        f"this card is the package's note '{note.guid}' already (deck file {project.shown(other.path)}):"
                        " imported again, two cards would be one Anki note")))
    if problems:
        raise BuildError(problems[:20] + ([Problem(data.shown, NO_LINE, f"... and {len(problems) - 20} more like "
                                                   "these")] if len(problems) > 20 else []))


def _deck_name(name: str) -> str:
    """A deck name a deck file and front matter accept: no control characters, no empty `::` parts."""
    parts = (LINE_BREAK_RE.sub(" ", part).replace("\t", " ").strip() for part in name.split("::"))
    return "::".join(part for part in parts if part) or "Default"


def _deck_file(deck: _Deck, root: Path, out: Path, has_media: bool, stage: Stage) -> None:
    data = {"name": deck.name, "id": deck.deck_id}
    if deck.description:
        data["description"] = deck.description
    data.update({"cards": [deck.pattern], "subdecks": "none"})
    if has_media:
        data["media"] = (out / MEDIA).relative_to(root / "cards").as_posix()
    if deck.missing and deck.missing.names:
        data["missing_media"] = deck.missing.names
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 30)
    stage.write_text(root / "decks" / f"{deck.slug}.yaml",
                     "# Imported from Anki. Anki knows decks by name: keep 'name' to keep updating them, and the\n"
                     "# media folder's file names (learners have these files).\n" + text)


def _card_files(deck: _Deck, data: AnkiPackage, keys: dict[int, str], notetypes: dict[str, NoteType],
                converter: Converter, root: Path, stage: Stage, result: ImportResult,
                counts: dict[int, Counter]) -> list[tuple[Note, AnkiNote]]:
    """One card file per deck (main.md for the top deck), every card read back; return each card written, as the
    build makes it, with its note in the package."""
    by_deck: dict[str, list[AnkiNote]] = {}
    for note in deck.notes:
        by_deck.setdefault(_deck_name(note.deck), []).append(note)
    names, slugs, guids, records = {MAIN, MEDIA}, set(), set(), []
    files = []
    for deck_name in sorted(by_deck):
        subdeck = deck_name[len(deck.name) + 2:]
        name = MAIN if deck_name == deck.name else unique(_file_slug(subdeck), names)  # distinct on any file system
        front = "---\n" + yaml.safe_dump({"subdeck": subdeck}, allow_unicode=True, width=1 << 30).strip() + \
            "\n---\n\n" if subdeck else ""
        path = deck.folder / f"{name}.md"
        staged, shown = stage.location(path), display_path(path, root)
        cards: list[tuple[Converted, AnkiNote]] = []
        line = front.count("\n") + 1
        for note in by_deck[deck_name]:
            if note.guid in guids:
                result.warnings.append(note_problem(data.shown, note, "not imported: its GUID is an earlier note's"))
                continue
            converted = _card(note, deck_name, keys[note.notetype_id], notetypes, converter, staged, front, slugs,
                              result, (shown, line + 1))
            where = (shown, line + 1) if converted else None
            result.warnings += deck.missing.lines(note, data.shown, where)  # type: ignore[union-attr]
            if converted is None or converted.note is None:
                continue
            guids.add(note.guid)
            cards.append((converted, note))
            line += converted.text.count("\n") + 1
            records.append((converted.note, note))
            _count(counts[note.notetype_id], converted)
        files.append((path, staged, shown, front, cards))
    distinct = _distinct(files)
    for path, staged, shown, front, cards in files:
        if cards:
            texts = [card_text((c.note.card_id, " ".join(map(tag_text, c.note.tags)), c.note.guid),  # type: ignore
                               notetypes[c.note.note_type], c.parts, distinct[c.note.card_id])  # type: ignore
                     if distinct.get(c.note.card_id) else c.text for c, _ in cards]  # type: ignore[union-attr]
            text = front + "\n".join(texts).rstrip() + "\n"
            _check_file(text, [c.note for c, _ in cards], staged, shown)  # type: ignore[misc]
            stage.write_text(path, text)
    return records


def _distinct(files: list) -> dict[str, tuple[str, ...]]:
    """For each card whose question `check` would call a near-duplicate of an earlier one, the earlier card (its
    id comment then says `distinct:`): the package has both notes, and a fresh import passes `check --strict`."""
    ordered = sorted(((shown, number, c.note.card_id, c.question) for _, _, shown, _, cards in files
                      for number, (c, _) in enumerate(cards)), key=lambda q: q[:2])  # as check orders them
    found: dict[str, tuple[str, ...]] = {}
    for match in near_duplicates([q[3][0] for q in ordered], markdown=[q[3][1] for q in ordered]):
        later, earlier = ordered[match.later][2], ordered[match.earlier][2]
        found[later] = found.get(later, ()) + (earlier,)
    return found


def _card(note: AnkiNote, deck_name: str, key: str, notetypes: dict[str, NoteType], converter: Converter,
          staged: Path, front: str, slugs: set[str], result: ImportResult, where: tuple[str, int]) -> Converted | None:
    """A note as a card, or None (said per note); what it cannot keep exactly is said per note too."""
    notetype = notetypes[key]
    values = tuple(value.replace("\x00", "") for value in note.fields)
    tags = [t for t in note.tags if valid_quoted_tag(t)]
    issues = [f"field {spec.name!r} holds a NUL character, which a card file cannot: dropped" for spec, value in
              zip(notetype.fields, note.fields) if "\x00" in value]
    if len(tags) < len(note.tags):
        issues.append("tags Anki would not keep either, dropped: "
                      + " ".join(repr(t) for t in note.tags if t not in tags))
    if not note.guid.strip() or note.guid != note.guid.strip() or LINE_BREAK_RE.search(note.guid) \
            or "-->" in note.guid:
        result.warnings.append(note_problem(result.package, note, "not imported: its GUID cannot be written in an "
                                            "id comment (spaces at its ends, a line break or `-->`)"))
        return None
    card_id = slug_for(plain_text(values[0]), slugs)
    converted = converter.convert(values, notetype, (card_id, " ".join(map(tag_text, tags)), note.guid), staged,
                                  front)
    if converted.note is None:
        slugs.discard(card_id)
        result.warnings.append(note_problem(result.package, note, f"not imported: it does not build ({converted.problem})"))
        return None
    built = converted.note
    if built.guid != note.guid or sorted(built.tags) != sorted(tags) or built.subdeck != deck_name:
        issues.append("its GUID, tags or deck do not read back (please report this)")
    if converted.differs:
        carriage = any("\r" in value for spec, value in zip(notetype.fields, values) if spec.name in converted.differs)
        issues.append(f"field{'s' if len(converted.differs) > 1 else ''} "
                      f"{', '.join(map(repr, converted.differs))} cannot be kept byte for byte "
                      + ("(a carriage return ends a line in a card file)" if carriage else "(please report this)"))
    if note.other_decks:
        issues.append(f"its cards are in several decks ({', '.join([deck_name, *note.other_decks])}): a new learner "
                      f"gets them all in '{deck_name}'")
    result.warnings += [note_problem(result.package, note, message, where) for message in issues]
    result.notes += 1
    result.exact += not issues
    return converted


def _count(counter: Counter, converted: Converted) -> None:
    counter["notes"] += 1
    counter["exact"] += converted.exact
    for number, form in enumerate(converted.forms):
        counter[number, form] += 1


def _check_file(text: str, notes: list, staged: Path, shown: str) -> None:
    """The card file reads as the cards did one by one (each was read back alone)."""
    parsed = parse_text(text, staged, shown)
    found = [(s.card_id, s.guid, s.tags) for s in parsed.notes]
    if parsed.problems or found != [(n.card_id, n.guid, n.tags) for n in notes]:
        raise BuildError(list(parsed.problems) or [Problem(shown, 0, "import made a card file that does not read "
                                                           "back as its cards (please report this)")])


def _lock(config: DeckConfig, records: list[tuple[Note, AnkiNote]], data: AnkiPackage, keys: dict[int, str],
          notetypes: dict[str, NoteType], stage: Stage) -> None:
    """The deck's lock as if the package had been released from these sources: each note and note type at its
    original modification time (never later than now), so the first release is not newer for any learner."""
    if not records:
        return
    now = int(time.time())
    ledger = Ledger(deck_id=config.deck_id)
    for note, original in records:
        ledger.cards[note.card_id] = {"guid": note.guid, "hash": note.content_hash, "mod": min(max(original.mod, 0), now),
                                      "subdeck": note.subdeck, "type": note.note_type}
    for mid in sorted({original.notetype_id for _, original in records}):
        notetype = notetypes[keys[mid]]
        ledger.notetypes[notetype.key] = {"hash": notetype.content_hash(), "mod": min(data.notetypes[mid].mod, now),
                                          "schema": notetype.schema()}
    root = stage.root
    stage.write_text(root / "decks" / config.lock_path.name, "".join(ledger.chunks()))


def _summary(model: AnkiNoteType, key: str, counter: Counter) -> str:
    """One line per note type: its notes, how many are exact, and how each field was written."""
    fields = []
    for number, spec in enumerate(model.fields):
        forms = {form: counter[number, form] for form in ("markdown", "html", "raw") if counter[number, form]}
        if forms:
            fields.append(f"{spec.name}: " + ", ".join(f"{count} {FORM_NAMES[form]}" for form, count in forms.items()))
    exact = counter["exact"]
    return (f"note type '{model.name}' -> templates/{key}/: {counted(counter['notes'], 'note')}"
            + (f" ({counter['notes'] - exact} not exactly)" if exact < counter["notes"] else "")
            + ("; " + "; ".join(fields) if fields else ""))


FORM_NAMES = {"markdown": "Markdown", "html": "HTML as written", "raw": "raw HTML"}


def _file_slug(name: str) -> str:
    """A card file name for a subdeck: its ASCII slug, else its own letters (never empty or hidden)."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold())
    return slug(name.replace("::", " ")) or "-".join(words)[:48].strip("-_") or "subdeck"
