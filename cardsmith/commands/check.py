"""`cardsmith check`: validate every deck without writing anything; errors and warnings with locations.

The errors are those a build reports (Project + Project.prepare); on top come checks a build does
not make: near-duplicate questions, cloze numbering, hand-typed math delimiters, a newline inside
inline math, cloze deletions inside math, unclosed HTML, external resources, card files in no deck,
code and inline formulas too wide for a phone screen (phonefit).
"""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import mathtex
from ..errors import BuildError, Problem, collapse_repeats
from ..notetypes import load_notetypes
from ..parse import SourceCard
from ..pipeline import DeckBuild, Project
from ..render import CLOZE_RE, RenderedCard
from . import phonefit
from .duplicates import near_duplicates
from .htmlcheck import script_parts, tag_problems

EXTERNAL_RE = re.compile(r'<(img|a|audio|video|source|iframe)\b[^>]*?\b(?:src|href)="((?:https?:)?//[^"]*)"', re.I)
HAND_MATH_RE = re.compile(r"\\([(\[])")
KIND = {"img": "image", "a": "link"}


@dataclass
class CheckReport:
    """What `check` found, and what it looked at (for -v)."""

    problems: list[Problem] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    promoted: int = 0  # warnings turned into errors by --strict

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
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
    builds: list[DeckBuild] = []
    problems: list[Problem] = []
    for deck in project.decks:
        build, found = project.prepare(deck, progress)
        builds.append(build)
        problems += found
        report.log.append(f"{deck.name} ({project.shown(deck.path)}): {len(build.files)} files, "
                          f"{len(build.cards)} cards parsed and rendered")
    problems += project.identity_problems(builds)
    problems += _unmatched_files(project, builds, problems)
    files = list(dict.fromkeys(path for build in builds for path in build.files))
    # A file taken by two decks (an error reported above) must not make its cards duplicates.
    sources = list({(card.path, card.line): card for build in builds for card in build.sources}.values())
    problems += _empty_files(project, files, sources, problems)
    cloze_types = {key for key, notetype in project.notetypes.items() if notetype.is_cloze}
    for card in sources:
        problems += collapse_repeats(_source_problems(card, card.note_type in cloze_types))
    for card in (card for build in builds for card in build.cards):
        problems += collapse_repeats(_rendered_problems(card))
    problems += _duplicate_questions(sources)
    report.log.append(f"checked {len(sources)} cards for near-duplicate questions, cloze numbering, math "
                      "delimiters, unclosed HTML and external resources")
    report.problems = list(set(problems))
    return _finish(report, strict)


def _finish(report: CheckReport, strict: bool) -> CheckReport:
    if strict:
        report.promoted = len(report.warnings)
        report.problems = [dataclasses.replace(p, severity="error") for p in report.problems]
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
    return [Problem(project.shown(path), 1, "card file is in no deck: no `cards` pattern in decks/*.yaml matches it",
                    "warning")
            for path in sorted((project.root / "cards").rglob("*.md"))
            if path.is_file() and path.resolve() not in used and project.shown(path) not in refused]


def _empty_files(project: Project, files: list[Path], sources: list[SourceCard],
                 problems: list[Problem]) -> list[Problem]:
    with_cards = {card.path for card in sources}
    with_problems = {p.path for p in problems}
    return [Problem(project.shown(path), 1, "no cards in this file (a card starts with a `## ` heading)", "warning")
            for path in files if path not in with_cards and project.shown(path) not in with_problems]


def _source_problems(card: SourceCard, is_cloze: bool) -> list[Problem]:
    """Warnings on a card's Markdown: hand-typed math delimiters, line breaks in math, cloze markup."""
    problems = []
    for text, first_line in ((card.question, card.line), (card.answer, card.answer_line)):
        _, issues = mathtex.scan(text)
        for issue in issues:
            if issue.severity == "warning":
                problems.append(Problem(card.shown_path, first_line + issue.offset, issue.message, "warning"))
        masked = mathtex.mask_code(text).replace("\\\\", "  ")
        for match in HAND_MATH_RE.finditer(masked):
            line = first_line + masked.count("\n", 0, match.start())
            problems.append(Problem(card.shown_path, line, _hand_math_message(match.group(1)), "warning"))
        problems += [Problem(card.shown_path, first_line + misfit.offset, misfit.message, "warning")
                     for misfit in phonefit.misfits(text)]
    return problems + _cloze_problems(card, is_cloze)


def _hand_math_message(bracket: str) -> str:
    if bracket == "(":
        return ("`\\(` typed by hand: write inline math as `$…$` (only `$` math is checked; "
                "for a literal `(` drop the backslash)")
    return ("`\\[` typed by hand starts display math: write display math as `$$…$$` on its own lines "
            "(for a literal `[` drop the backslash)")


def _cloze_problems(card: SourceCard, is_cloze: bool) -> list[Problem]:
    problems = []
    places = [(card.answer, card.answer_line)] + ([] if is_cloze else [(card.question, card.line)])
    for text, first_line in places:
        match = CLOZE_RE.search(text)
        if match:
            line = first_line + text.count("\n", 0, match.start())
            where = "the answer" if text is card.answer else f"a {card.note_type} card"
            problems.append(Problem(card.shown_path, line, f"`{match.group(0)}` in {where} is shown as typed: cloze "
                                    "deletions work only in the question of a cloze card (`type: cloze`)", "warning"))
    numbers = sorted({int(n) for n in CLOZE_RE.findall(card.question)})
    if not is_cloze or not numbers:
        return problems
    missing = sorted(set(range(1, numbers[-1] + 1)) - set(numbers))
    if missing:
        have = ", ".join(f"c{n}" for n in numbers)
        skipped = ", ".join(f"c{n}" for n in missing)
        problems.append(Problem(card.shown_path, card.line, f"cloze numbering skips {skipped} (has {have}): "
                                "number the deletions c1, c2, … without gaps", "warning"))
    return problems


def _rendered_problems(card: RenderedCard) -> list[Problem]:
    """Problems in a card's HTML: unclosed tags, and resources that need a network."""
    source = card.source
    problems = []
    for field_html, (text, first_line) in zip(card.fields, ((source.question, source.line),
                                                            (source.answer, source.answer_line))):
        # Only raw HTML written in the card can be unbalanced: the Markdown engine and Pygments
        # always close what they open (tests/test_fuzz.py), so a field written without `<` is skipped.
        for needle, message in (tag_problems(field_html) if "<" in text else ()):
            problems.append(Problem(source.shown_path, first_line + _line_of(text, needle), message, "warning"))
        if "<" in text:  # scripts too can only come from raw HTML written in the card
            seen: dict[str, int] = {}  # needle -> where its last occurrence was found
            for needle, what in script_parts(field_html):
                at = text.lower().find(needle, seen.get(needle, -1) + 1)
                seen[needle] = at
                problems.append(Problem(source.shown_path, first_line + text.count("\n", 0, max(at, 0)),
                                        f"{what} in a card: Anki runs it whenever the card is shown "
                                        "(`cardsmith preview` only with --allow-scripts)", "warning"))
        for match in EXTERNAL_RE.finditer(field_html):
            url = html.unescape(match.group(2))
            kind = KIND.get(match.group(1).lower(), "resource")
            advice = "" if kind == "link" else "; save the file next to the card file and link it relatively"
            problems.append(Problem(source.shown_path, first_line + _line_of(text, url),
                                    f"external {kind} {url}: it does not load offline (AnkiDroid without a "
                                    f"network){advice}", "warning"))
    return problems


def _line_of(text: str, needle: str) -> int:
    index = text.lower().find(needle.lower())
    return text.count("\n", 0, index) if index >= 0 else 0


def _duplicate_questions(cards: list[SourceCard]) -> list[Problem]:
    """One warning per question that repeats an earlier one, naming the closest earlier card."""
    ordered = sorted(cards, key=lambda c: (c.shown_path, c.line))
    best: dict[int, list[tuple[float, int]]] = {}
    for match in near_duplicates([card.question for card in ordered]):
        best.setdefault(match.later, []).append((-match.ratio, match.earlier))
    problems = []
    for index, found in sorted(best.items()):
        ratio, earlier = min(found)
        first, later = ordered[earlier], ordered[index]
        what = "the same question as" if ratio == -1.0 else f"nearly the same question ({-ratio:.0%}) as"
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        problems.append(Problem(later.shown_path, later.line,
                                f"'{later.card_id}' asks {what} '{first.card_id}' at {first.shown_path}:{first.line}"
                                f"{more}: merge them or make the questions distinct", "warning"))
    return problems
