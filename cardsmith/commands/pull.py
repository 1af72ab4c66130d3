"""`cardsmith pull`: bring what was edited in Anki back into the Markdown sources.

    prepare        the decks' current build (sources with errors stop it, as in `sync`)
    Target         the collection, only read                     (sync's: a collection file, or AnkiConnect)
    plan_pull      per note, field by field: base, Anki, source  (pullplan.py, pure)
    Editor         the edits, into the card files in place       (cardedit.py, fieldsource.py: each read back)
    replace_files  every file at once, never over one saved meanwhile; then the sync record (syncrecord.py),
                   so that the next pull, and sync, know both sides agree on what was pulled
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from ..config import DeckConfig
from ..errors import BuildError, Problem, counted, one_line
from ..files import Rewrite, refuse_symlinks, replace_files
from ..ledger import Ledger
from ..model import DeckBuild, Note
from ..pipeline import Project
from .cardedit import CardEdit, Editor, FileEdit, NewCard
from .pullplan import DeckPull, NotePull, plan_pull, top
from .sync import Target, deck_ledger, shipped_deck
from .syncplan import AnkiNote, RecordedNote, ShippedDeck, deck_key, field_hashes
from .syncrecord import load_record, save_record

@dataclass(frozen=True)
class PullOptions:
    take: str | None = None  # which side wins a conflict: "anki" or "source" (None: report it)
    new_cards: Path | None = None  # the card file new notes are written to (None: listed)
    delete: bool = False  # remove the cards deleted in Anki from the sources
    dry_run: bool = False


@dataclass
class PullResult:
    target: str
    decks: list[DeckPull]
    files: list[FileEdit]
    seconds: float
    diff: list[str] = field(default_factory=list)  # the dry run's diff of the card files

    @property
    def failed(self) -> bool:
        """Whether something was left for the user: a conflict, a note it could not compare, or an edit that could not
        be written."""
        return any(plan.conflicts or plan.skipped for plan in self.decks) or any(f.failed for f in self.files)


def pull(project: Project, decks: Sequence[DeckConfig], opener: Callable[[], Target], options: PullOptions,
         progress: Callable[[int], None] | None = None) -> PullResult:
    """Compare the decks with the collection (opened only once the sources build), write what changed only in
    Anki into the sources, and record it; raise BuildError on the sources' problems."""
    started = time.perf_counter()
    builds, problems = project.prepare_all(list(decks), progress)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BuildError(errors)
    new_deck = _new_cards_deck(project, builds, options.new_cards) if options.new_cards else None
    live = project.live_guids(builds)
    shipped = [shipped_deck(project, build, live) for build in builds]
    ledgers = {deck.deck_id: deck_ledger(project, deck) for deck in project.decks}
    # Every GUID the project uses (in any deck, pulled or not) or released: a note in the deck with another is new.
    known = live | {record["guid"] for ledger in ledgers.values() for records in (ledger.cards, ledger.deleted)
                    for record in records.values()}
    target = opener()
    try:
        record = load_record(project.root, target.key)
        plans = []
        for build, deck in zip(builds, shipped):
            recorded = record.decks.get(build.config.deck_id, {})
            guids = set(deck.released) | set(recorded) | {n.guid for n in build.notes}
            guids |= target.deck_guids(build.config.name)
            snapshot = target.snapshot(deck, guids)
            plans.append(plan_pull(build, snapshot, recorded, ledgers[build.config.deck_id].cards, known,
                                   project.notetypes, options.take))
    finally:
        target.close()
    files = _edit_files(project, plans, options, new_deck, ledgers)
    result = PullResult(target.label, plans, files, time.perf_counter() - started)
    if options.dry_run:
        result.diff = [line for f in files if f.changed for line in _diff(f)]
        return result
    replace_files([Rewrite(f.path, f.shown, f.read, f.new) for f in files if f.changed], "cardsmith pull")
    save_record(record, {plan.build.config.deck_id: (plan.build.config.name, _recorded(
        plan, {} if plan.record_ignored else record.decks.get(plan.build.config.deck_id, {}), files, deck))
        for plan, deck in zip(plans, shipped)})
    return result


def _edit_files(project: Project, plans: list[DeckPull], options: PullOptions, new_deck: DeckConfig | None,
                ledgers: dict[int, Ledger]) -> list[FileEdit]:
    """Every card file's edits, made and checked in memory."""
    results = []
    for plan in plans:
        build = plan.build
        paths = {project.shown(path): path for path in build.files}
        edits: dict[str, list[CardEdit]] = {}
        for pull in plan.pulls:
            if pull.writes and not pull.conflicts:
                edits.setdefault(pull.note.shown_path, []).append(
                    CardEdit(pull.note, pull.fields, pull.add_tags, pull.remove_tags))
        if options.delete:
            for note in plan.deleted:
                edits.setdefault(note.shown_path, []).append(CardEdit(note, delete=True))
        new: list[NewCard] = []
        if new_deck is build.config and options.new_cards is not None:
            new = [card for card in (_new_card(project, plan, anki) for anki in plan.new) if card is not None]
            paths.setdefault(project.shown(options.new_cards), options.new_cards)
        editor = Editor(build.config, project.notetypes, project.renderer, build.media)
        ledger = ledgers[build.config.deck_id]
        taken = {n.card_id for n in build.notes} | set(ledger.cards) | set(ledger.deleted)  # never an id released
        for shown in sorted(set(edits) | ({project.shown(options.new_cards)} if new else set())):
            path = paths[shown]
            raw = path.read_bytes() if path.exists() else None
            adding = new if options.new_cards is not None and shown == project.shown(options.new_cards) else []
            # Cards from the last in the file to the first: an edit never moves the lines of one still to come.
            ordered = sorted(edits.get(shown, []), key=lambda edit: -edit.note.line)
            results.append(editor.edit(path, shown, raw, ordered, adding, taken))
    return results


def _new_card(project: Project, plan: DeckPull, anki: AnkiNote) -> NewCard | None:
    """A note added in Anki as a new card, if its note type is one of the project's (else it is only listed)."""
    key = next((k for k, nt in project.notetypes.items() if nt.model_id == anki.notetype_id), None)
    if key is None:
        return None
    return NewCard(key, anki.fields, tuple(t for t in anki.tags if top(t) in plan.tops), anki.guid,
                   anki.cards[0].deck if anki.cards else plan.build.config.name)


def _new_cards_deck(project: Project, builds: list[DeckBuild], path: Path) -> DeckConfig:
    """The deck pulled whose `cards` patterns take the --new-cards file; raise BuildError when none does."""
    shown = project.shown(path)
    cards = project.root / "cards"
    try:
        relative = PurePosixPath(Path(os.path.abspath(path)).relative_to(os.path.abspath(cards)).as_posix())
    except ValueError:
        raise BuildError([Problem(shown, 0, "--new-cards must name a card file under cards/")]) from None
    for build in builds:
        if path.exists() and any(path.samefile(f) for f in build.files):
            return build.config
        if not path.exists() and any(_matches(relative, pattern) for pattern in build.config.card_globs):
            if not project.boundary.contains(path.parent):
                raise BuildError([Problem(shown, 0, "--new-cards: its folder is outside the project")])
            refuse_symlinks(project.root, path)
            return build.config
    decks = "; ".join(f"{b.config.name} takes {', '.join('cards/' + g for g in b.config.card_globs)}" for b in builds)
    raise BuildError([Problem(shown, 0, f"--new-cards: not a card file of a deck being pulled ({decks})")])


def _matches(relative: PurePosixPath, pattern: str) -> bool:
    """Whether a path under cards/ is one a deck's glob pattern would find (`**`: any number of folders)."""
    def match(parts: tuple[str, ...], rule: tuple[str, ...]) -> bool:
        if not rule:
            return not parts
        if rule[0] == "**":
            return any(match(parts[skip:], rule[1:]) for skip in range(len(parts) + 1))
        return bool(parts) and fnmatch.fnmatchcase(parts[0], rule[0]) and match(parts[1:], rule[1:])

    return match(relative.parts, PurePosixPath(pattern).parts)


def _recorded(plan: DeckPull, old: dict[str, RecordedNote], files: list[FileEdit],
              deck: ShippedDeck) -> dict[str, RecordedNote]:
    """The deck's sync record after the pull: each note on which Anki and the sources now agree, as Anki has it
    (the base of the next pull; the next sync then leaves it alone). Notes the sides still differ on keep their
    entry, so that the next sync ships the source's version."""
    done = {(f.shown, card_id) for f in files for card_id, _ in f.done}
    result = dict(old)
    pulls = {p.note.guid: p for p in plan.pulls}
    for note in plan.build.notes:
        anki = plan.snapshot.notes.get(note.guid)
        pull = pulls.get(note.guid)
        if anki is None:
            if _removed(plan, note, done):
                result.pop(note.guid, None)
            continue
        if pull is not None and (pull.conflicts or (note.shown_path, note.card_id) not in done and pull.writes):
            continue
        tags = _agreed(plan, note, anki, pull)
        if tags is not None:
            prior = old.get(note.guid)
            result[note.guid] = RecordedNote(note.card_id, field_hashes(anki.fields), tags,
                                             prior.deck if prior else _placed(note, anki, deck))
    new = {anki.guid: anki for anki in plan.new}
    for f in files:
        for card_id, _, guid in f.added:
            anki = new.get(guid)
            if anki is not None:
                owned = tuple(t for t in anki.tags if top(t) in plan.tops)
                result[guid] = RecordedNote(card_id, field_hashes(anki.fields), owned + f.file_tags,
                                            anki.cards[0].deck if anki.cards else "")
    return result


def _removed(plan: DeckPull, note: Note, done: set[tuple[str, str]]) -> bool:
    """Whether the pull removed the card of a note deleted in Anki from the sources."""
    return (note.shown_path, note.card_id) in done and note in plan.deleted


def _agreed(plan: DeckPull, note: Note, anki: AnkiNote, pull: NotePull | None) -> tuple[str, ...] | None:
    """The note's tags once the pull is written, if the sources then say what Anki holds (else None)."""
    fields = list(note.fields)
    tags = {t.casefold(): t for t in note.tags}
    if pull is not None and not pull.conflicts:
        for index, value in pull.fields:
            fields[index] = value
        tags.update((t.casefold(), t) for t in pull.add_tags)
        for tag in pull.remove_tags:
            tags.pop(tag.casefold(), None)
    owned = {t.casefold() for t in anki.tags if top(t) in plan.tops}
    if field_hashes(fields) != field_hashes(anki.fields) or set(tags) != owned:
        return None
    return tuple(tags.values())


def _placed(note: Note, anki: AnkiNote, deck: ShippedDeck) -> str:
    """Where cardsmith put the note's cards, for the record: a deck a release put it in, else the deck's own."""
    released = {deck_key(d) for d in deck.released.get(note.guid, ("", ()))[1]}
    return next((c.deck for c in anki.cards if deck_key(c.deck) in released), note.subdeck)


def report_lines(result: PullResult, dry_run: bool) -> tuple[list[str], list[str]]:
    """What the pull did, per deck (stdout, after the dry run's diff), and the conflicts and edits it could not
    write (stderr)."""
    out, err = list(result.diff), []
    done = {(f.shown, card_id) for f in result.files for card_id, _ in f.done}
    for plan in result.decks:
        names = {key: nt.field_names for key, nt in plan.notetypes.items()}
        pulled = [p for p in plan.pulls if p.writes and (p.note.shown_path, p.note.card_id) in done]
        new = {anki.guid for anki in plan.new}
        added = [(f.shown, item) for f in result.files for item in f.added if item[2] in new]
        out.append(f"{plan.build.config.name}: {len(pulled)} pulled, {len(added)} new, {len(plan.deleted)} deleted in "
                   f"Anki, {len(plan.source_only)} changed in the sources only, {counted(plan.conflicts, 'conflict')}, "
                   f"{plan.unchanged} unchanged")
        lines = []
        if plan.record_ignored:
            lines.append("the sync record names none of the notes in this collection: it was made for another one, "
                         "and is not used")
        for pull in pulled:
            what = [names[pull.note.note_type][index] for index, _ in pull.fields]
            if pull.add_tags or pull.remove_tags:
                what.append("tags " + " ".join([f"+{t}" for t in pull.add_tags] + [f"-{t}" for t in pull.remove_tags]))
            taken = f" ({counted(pull.taken, 'conflict')}: --take {plan.take})" if pull.taken else ""
            lines.append(f"pulled: {pull.note.card_id} ({_where(pull.note)}): {', '.join(what)}{taken}")
        lines += [f"new: {card_id} ({shown}:{line})" for shown, (card_id, line, _) in added]
        written = {guid for _, (_, _, guid) in added} | {key for f in result.files for key, _, _ in f.failed}
        ours = {nt.model_id for nt in plan.notetypes.values()}
        lines += [f"new in Anki: \"{_short(anki.fields[0])}\" (note {anki.note_id}): left there; " + (
            "--new-cards FILE writes it as a new card" if anki.notetype_id in ours else
            f"its note type (id {anki.notetype_id}) is not one of the project's")
            for anki in plan.new if anki.guid not in written]
        for note in plan.deleted:
            if (note.shown_path, note.card_id) in done:
                lines.append(f"deleted: {note.card_id} ({_where(note)}): deleted in Anki, removed from the sources")
            else:
                lines.append(f"deleted in Anki: {note.card_id} ({_where(note)}): kept in the sources (--delete "
                             "removes it)")
        lines += [f"not in the collection: {note.card_id} ({_where(note)}): deleted there, or never synced or "
                  "imported (no sync record tells which)" for note in plan.absent]
        out += ["  " + line for line in lines]
        err += [f"{_where(note)}: not pulled: card {note.card_id!r}: {why}" for note, why in plan.skipped]
        for pull in plan.pulls:
            err += _conflict_lines(pull, names[pull.note.note_type])
    for f in result.files:
        err += [f"{f.shown}:{line}: not pulled: {f'card {key!r}' if line else f'the note with GUID {key}'}: {why}"
                for key, line, why in sorted(f.failed, key=lambda item: item[1])]
    conflicts = sum(plan.conflicts for plan in result.decks)
    if conflicts:
        err.append(f"{counted(conflicts, 'conflict')}: nothing was written for those cards; "
                   "`cardsmith pull --take anki` writes Anki's version into the sources, `--take source` keeps the "
                   "sources' (the next sync puts it into Anki); or edit the card by hand")
    changed = [f for f in result.files if f.changed]
    if dry_run:
        out.append(f"Dry run: nothing was written ({counted(len(changed), 'card file')} "
                   "would change).")
    elif changed:
        out.append(f"Pulled from {result.target} into {counted(len(changed), 'card file')} "
                   f"({result.seconds:.1f} s).")
    else:
        out.append(f"Nothing to write from {result.target}.")
    # Text from the collection (fields, GUIDs, tags) is shown with its line breaks and control characters escaped.
    return [one_line(line) for line in out], [one_line(line) for line in err]


def _conflict_lines(pull: NotePull, names: list[str]) -> list[str]:
    """A note's conflicts: where, which field, and both versions."""
    note = pull.note
    why = ("changed in Anki and in the sources since the last sync" if pull.known_base else
           "differs in Anki and in the sources, which changed since the release (with no sync record, pull cannot "
           "tell which side changed it)")
    lines = []
    for conflict in pull.conflicts:
        what = f"field '{names[conflict.index]}'" if conflict.index >= 0 else "its tags"
        line = note.field_lines[conflict.index] or note.line if conflict.index >= 0 else note.id_line
        lines += [f"{note.shown_path}:{line}: conflict: card '{note.card_id}', {what} {why}",
                  f"  in Anki:        {one_line(conflict.anki)}",
                  f"  in the sources: {one_line(conflict.source)}"]
    return lines


def _where(note: Note) -> str:
    return f"{note.shown_path}:{note.line}"


def _short(html_text: str) -> str:
    text = " ".join(re.sub(r"<[^>]*>", " ", html_text).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _diff(edit: FileEdit) -> list[str]:
    """A file's edits as a unified diff (lines without their endings)."""
    old = edit.read.decode("utf-8") if edit.read is not None else ""
    return [line.rstrip("\r\n") for line in difflib.unified_diff(
        old.splitlines(keepends=True), edit.text.splitlines(keepends=True),
        f"a/{edit.shown}" if edit.read is not None else "/dev/null", f"b/{edit.shown}")]
