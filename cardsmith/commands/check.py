"""`cardsmith check`: validate every deck without writing anything; errors and warnings with locations.

The errors are those a build reports (Project.prepare_all, then the release each deck's lock file would
make, planned and not written); on top come checks a build does not make, on the card files' Markdown
(through the parse memo) and the notes' HTML: near-duplicate questions, cloze numbering, hand-typed
math delimiters, a newline inside inline math, unclosed HTML, external resources, card files in no deck,
code and inline formulas too wide for a phone screen (phonefit). A field kept verbatim (format html, or
raw form) is the HTML Anki gets, as written or imported: only Markdown fields are linted.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import Callable

from .. import mathtex
from ..cardgen import CLOZE_OPEN_RE, cloze_numbers
from ..errors import BuildError, Problem, collapse_repeats, counted
from ..model import DeckBuild, FieldText, Note, SourceNote
from ..notetypes import NoteType, load_notetypes
from ..pipeline import Project
from ..resolve import field_texts
from . import phonefit
from .duplicates import Question, repeated_questions
from .htmlcheck import active_parts, tag_problems

HAND_MATH_RE = re.compile(r"\\([(\[])")


@dataclass
class CheckReport:
    """What `check` found, and what it looked at (for -v)."""

    problems: list[Problem] = default(default_factory=list)
    log: list[str] = default(default_factory=list)
    promoted: int = 0  # warnings turned into errors by --strict

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Warnings (--strict counts them as errors); a notice (what the project says it knows) is neither."""
        return [p for p in self.problems if p.severity == "warning"]


def check_project(root: Path, strict: bool = False,
                  progress: Callable[[int], None] | None = None,
                  on_total: Callable[[int], None] | None = None) -> CheckReport:
    """Check every deck under `root`; with `strict`, warnings become errors. Writes nothing."""
    report = CheckReport()
    try:
        project = Project(root, read_only=True)  # reuses the render cache, never writes it
    except BuildError as error:
        report.problems = error.problems + _notetype_problems(root, error.problems)
        report.log.append("the configuration has errors: cards were not checked")
        return _finish(report, strict)
    if on_total:
        on_total(sum(len(project.deck_files(deck)) for deck in project.decks))
    builds, problems = project.prepare_all(project.decks, progress)
    for build in builds:
        report.log.append(f"{build.config.name} ({project.shown(build.config.path)}): {counted(len(build.files), 'file')}, "
                          f"{counted(len(build.notes), 'card')} parsed and rendered")
    problems += _unmatched_files(project, builds, problems)
    files = list(dict.fromkeys(path for build in builds for path in build.files))
    questions, with_cards = _lint(project, builds, problems)
    problems += _empty_files(project, files, with_cards, problems)
    problems += _duplicate_questions(questions)
    report.log.append(f"checked {counted(len(questions), 'card')} for near-duplicate questions, cloze numbering, math "
                      "delimiters, unclosed HTML and external resources")
    if not any(p.severity == "error" for p in problems):  # as a build goes on to the release: planned, not written
        try:
            project.releases(builds)
        except BuildError as error:
            problems += error.problems
        report.log.append("planned each deck's release from its lock file (nothing written)")
    report.problems = list(set(problems))
    return _finish(report, strict)


def _lint(project: Project, builds: list[DeckBuild], problems: list[Problem]) -> tuple[list[Question], set[Path]]:
    """Add the warnings on every card as written (its file parsed, through the memo) and on its note's HTML;
    return the cards' questions and the files that have cards. A file taken by two decks (an error said
    already) is checked once; a card of an unknown note type only for its question."""
    questions: dict[tuple[Path, int], Question] = {}
    with_cards: set[Path] = set()
    for build in builds:
        notes = {(note.shown_path, note.id_line): note for note in build.notes}
        for loaded in project.load(build.config, built=False):
            for source in loaded.parsed.notes if loaded.parsed else ():
                with_cards.add(source.path)
                notetype = project.notetypes.get(source.note_type)
                if notetype is None or (source.path, source.line) in questions:
                    continue
                fields, _ = field_texts(source, notetype)
                problems += collapse_repeats(_source_problems(source, fields, notetype))
                note = notes.get((source.shown_path, source.id_line))
                if note is not None:
                    problems += collapse_repeats(_rendered_problems(note, fields))
                questions[source.path, source.line] = Question(source.card_id, source.shown_path, source.line,
                                                               fields[0].text, fields[0].format == "markdown",
                                                               source.distinct)
    return list(questions.values()), with_cards


def _finish(report: CheckReport, strict: bool) -> CheckReport:
    if strict:
        report.promoted = len(report.warnings)
        report.problems = [dataclasses.replace(p, severity="error") if p.severity == "warning" else p
                           for p in report.problems]
    report.problems = sorted(report.problems)
    return report


def _notetype_problems(root: Path, known: list[Problem]) -> list[Problem]:
    """Note-type problems too, when deck files already failed (Project stops at the first stage)."""
    try:
        load_notetypes(root)
    except BuildError as error:
        return [p for p in error.problems if p not in known]
    return []


def _unmatched_files(project: Project, builds: list[DeckBuild], problems: list[Problem]) -> list[Problem]:
    used = {path.resolve() for build in builds for path in build.files}
    refused = {p.path for p in problems}  # e.g. outside the project: a deck takes it, and said why not
    media = {deck.media_folder.resolve() for deck in project.decks if deck.media_folder}  # x.md there is an image
    return [Problem(project.shown(path), 1, "card file is in no deck: no `cards` pattern in decks/*.yaml matches it",
                    "warning")
            for path in sorted((project.root / "cards").rglob("*.md"))
            if path.is_file() and path.resolve() not in used and project.shown(path) not in refused
            and path.parent.resolve() not in media]


def _empty_files(project: Project, files: list[Path], with_cards: set[Path], problems: list[Problem]) -> list[Problem]:
    with_problems = {p.path for p in problems}
    return [Problem(project.shown(path), 1, "no cards in this file (a card starts with a `## ` heading)", "warning")
            for path in files if path not in with_cards and project.shown(path) not in with_problems]


def _source_problems(source: SourceNote, fields: tuple[FieldText, ...], notetype: NoteType) -> list[Problem]:
    """Warnings on a card's Markdown: hand-typed math delimiters, line breaks in math, cloze markup."""
    problems = []
    shown = source.shown_path
    for field in fields:
        if not field.text or field.format != "markdown":  # HTML as written: its `\(` and `$` are Anki's to read
            continue
        _, issues = mathtex.scan(field.text)
        for issue in issues:
            if issue.severity == "warning":
                problems.append(Problem(shown, field.line_of(issue.offset), issue.message, "warning"))
        masked = mathtex.mask_latex(mathtex.mask_code(field.text)).replace("\\\\", "  ")
        for match in HAND_MATH_RE.finditer(masked):
            line = field.line_of(masked.count("\n", 0, match.start()))
            problems.append(Problem(shown, line, _hand_math_message(match.group(1)), "warning"))
        problems += [Problem(shown, field.line_of(misfit.offset), misfit.message, "warning")
                     for misfit in phonefit.misfits(field.text)]
    return problems + _cloze_problems(source, fields, notetype)


def warned_markdown_fields(source: SourceNote, fields: tuple[FieldText, ...], notetype: NoteType,
                           note: Note) -> set[str]:
    """The names of the Markdown fields `check` warns about (the importer writes those verbatim instead)."""
    warned = set()
    for number, field in enumerate(fields):
        if field.format == "markdown" and field.text:
            alone = tuple(f if i == number else f._replace(format="html") for i, f in enumerate(fields))
            if _source_problems(source, alone, notetype) or _rendered_problems(note, alone):
                warned.add(field.name)
    return warned


def _hand_math_message(bracket: str) -> str:
    if bracket == "(":
        return ("`\\(` typed by hand: write inline math as `$…$` (only `$` math is checked; "
                "for a literal `(` drop the backslash)")
    return ("`\\[` typed by hand starts display math: write display math as `$$…$$` on its own lines "
            "(for a literal `[` drop the backslash)")


def _cloze_problems(source: SourceNote, fields: tuple[FieldText, ...], notetype: NoteType) -> list[Problem]:
    """Deletions where Anki shows them as typed (outside a cloze type's cloze fields), and gaps in the numbering."""
    problems = []
    cloze = set(notetype.rule.cloze_fields) if notetype.is_cloze else set()
    for number, field in enumerate(fields):
        match = CLOZE_OPEN_RE.search(field.text) if field.format == "markdown" else None
        if match is None or field.name in cloze:
            continue
        line = field.line_of(field.text.count("\n", 0, match.start()))
        where = (f"a {source.note_type} card" if number == 0 else "the answer" if number == 1
                 else f"field '{field.name}'")
        problems.append(Problem(source.shown_path, line, f"`{match.group(0)}` in {where} is shown as typed: cloze "
                                "deletions work only in the question of a cloze card (`type: cloze`)", "warning"))
    numbers = sorted(set().union(*(cloze_numbers(f.text) for f in fields if f.name in cloze)))
    if any(f.format != "markdown" for f in fields if f.name in cloze):
        return problems  # numbered as the note is in Anki
    if not numbers:
        return problems
    missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
    if missing:
        have = ", ".join(f"c{n}" for n in numbers)
        skipped = ", ".join(f"c{n}" for n in missing)
        problems.append(Problem(source.shown_path, source.line, f"cloze numbering skips {skipped} (has {have}): "
                                "number the deletions c1, c2, … without gaps", "warning"))
    return problems


def _rendered_problems(note: Note, fields: tuple[FieldText, ...]) -> list[Problem]:
    """Problems in a note's HTML: unclosed tags, scripts, and resources that need a network."""
    problems = []
    shown = note.shown_path
    for field_html, field in zip(note.fields, fields):
        if field.format != "markdown":
            continue  # verbatim: the HTML Anki gets, as written
        text = field.text
        # Only raw HTML written in the card can be unbalanced: the Markdown engine and Pygments
        # always close what they open (tests/test_fuzz.py), so a field written without `<` is skipped.
        for needle, message in (tag_problems(field_html) if "<" in text else ()):
            problems.append(Problem(shown, field.line_of(_line_of(text, needle)), message, "warning"))
        # Scripts and resources come from raw HTML written in the card, or from a Markdown link or image.
        active = active_parts(field_html) if "<" in text or 'href="' in field_html or 'src="' in field_html else None
        seen: dict[str, int] = {}  # needle -> where its last occurrence was found
        for needle, what in active.scripts if active else ():
            at = text.lower().find(needle, seen.get(needle, -1) + 1)
            seen[needle] = at
            problems.append(Problem(shown, field.line_of(text.count("\n", 0, max(at, 0))),
                                    f"{what} in a card: Anki runs it whenever the card is shown "
                                    "(`cardsmith preview` only with --allow-scripts)", "warning"))
        for kind, url in active.external if active else ():
            advice = "" if kind == "link" else "; save the file next to the card file and link it relatively"
            problems.append(Problem(shown, field.line_of(_line_of(text, url)),
                                    f"external {kind} {url}: it does not load offline (AnkiDroid without a "
                                    f"network){advice}", "warning"))
    return problems


def _line_of(text: str, needle: str) -> int:
    index = text.lower().find(needle.lower())
    return text.count("\n", 0, index) if index >= 0 else 0


def _duplicate_questions(questions: list[Question]) -> list[Problem]:
    """One warning per question that repeats an earlier one, naming the closest earlier card."""
    problems = []
    for later, first, ratio, more in repeated_questions(questions):
        what = "the same question as" if ratio == 1.0 else f"nearly the same question ({ratio:.0%}) as"
        also = f" (and {more} more)" if more else ""
        problems.append(Problem(later.shown_path, later.line,
                                f"'{later.card_id}' asks {what} '{first.card_id}' at {first.shown_path}:{first.line}"
                                f"{also}: merge them, make the questions distinct, or say `distinct: {first.card_id}` "
                                "in its id comment", "warning"))
    return problems
