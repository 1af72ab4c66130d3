"""Decks -> Anki text-import files (CSV/TSV with file headers) or a readable Markdown handout.

The text file carries the same GUIDs, note types, decks, fields and tags as the .apkg, so an
import of either updates the same notes in place.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .config import DeckConfig
from .errors import BuildError, Problem
from .files import copy_atomic, write_atomic
from .pipeline import DeckBuild, Project

FORMATS = {"csv": ("comma", ",", ".csv"), "tsv": ("tab", "\t", ".tsv"), "markdown": ("", "", ".md")}
IMAGE_RE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
EXTERNAL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/)", re.I)
CLOZE_START_RE = re.compile(r"\{\{c\d+::")


@dataclass(frozen=True)
class ExportResult:
    """One exported deck."""

    deck: DeckConfig
    output: Path
    notes: int
    media_dir: Path | None

    def summary(self, root: Path) -> str:
        from .errors import display_path

        line = f"{self.deck.name}: {self.notes} notes -> {display_path(self.output, root)}"
        if self.media_dir:
            line += (f"\n  media in {display_path(self.media_dir, root)}: copy them into Anki's collection.media"
                     f" folder (or import the .apkg once)")
        return line


def export_decks(project: Project, fmt: str, out_dir: Path, only: list[str] | None = None) -> list[ExportResult]:
    """Export every deck (or those named in `only`); raise BuildError on any problem."""
    if fmt not in FORMATS:
        raise BuildError([Problem("--format", 0, f"unknown format '{fmt}' (valid: {', '.join(FORMATS)})")])
    decks = project.selected(only)
    builds = []
    problems: list[Problem] = []
    for deck in decks:
        build, found = project.prepare(deck)
        problems += [p for p in found if p.severity == "error"]
        builds.append(build)
    if problems:
        raise BuildError(problems)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for build in builds:
        output = out_dir / f"{build.config.slug}{FORMATS[fmt][2]}"
        if fmt == "markdown":
            text, media_dir = handout(project, build, output), None
        else:
            text = text_import(project, build, fmt)
            media_dir = _copy_media(build, out_dir / f"{build.config.slug}-media")
        write_atomic(output, [text])  # through a temporary file: a symlink there is replaced, never written through
        results.append(ExportResult(build.config, output, len(build.cards), media_dir))
    return results


def text_import(project: Project, build: DeckBuild, fmt: str) -> str:
    """Anki's text-import format: file headers, then one row per note (GUID, note type, deck, fields, tags)."""
    name, delimiter, _ = FORMATS[fmt]
    buffer = io.StringIO()
    buffer.write(f"#separator:{name}\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n"
                 "#tags column:6\n")
    # Every field quoted: Anki reads a line that starts with `#` as a comment, and about one GUID
    # in 91 starts with `#`; quotes also keep separators, quotes and line breaks inside a field.
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for rendered in build.cards:
        card = rendered.source
        notetype = project.notetypes[card.note_type]
        writer.writerow([project.guid(build.config, card), notetype.model_id,
                         project.subdeck_of(build.config, card.path, card),
                         *rendered.fields, " ".join(card.tags)])
    return buffer.getvalue()


def _copy_media(build: DeckBuild, media_dir: Path) -> Path | None:
    media = {m.name: m.source for card in build.cards for m in card.media}
    if not media:
        return None
    media_dir.mkdir(parents=True, exist_ok=True)
    for name, source in sorted(media.items()):
        copy_atomic(source, media_dir / name)
    return media_dir


def handout(project: Project, build: DeckBuild, output: Path) -> str:
    """A readable Markdown document of the deck: one section per subdeck, math kept as `$…$`."""
    deck = build.config
    lines = [f"# {deck.name}", ""]
    if deck.description.strip():
        lines += [deck.description.strip(), ""]
    current = None
    for rendered in build.cards:
        card = rendered.source
        subdeck = project.subdeck_of(deck, card.path, card)
        if subdeck != current:
            current = subdeck
            if subdeck != deck.name:
                lines += [f"## {subdeck[len(deck.name) + 2:].replace('::', ' / ')}", ""]
        question, answer = card.question, card.answer
        if project.notetypes[card.note_type].is_cloze:
            question = reveal_cloze(question)
        first, _, rest = question.partition("\n")
        lines += [f"### {first}", ""]
        if rest.strip():
            lines += [_relink(rest.strip(), card.path, output), ""]
        if answer.strip():
            lines += [_relink(answer.strip(), card.path, output), ""]
    return "\n".join(lines).rstrip() + "\n"


def reveal_cloze(text: str) -> str:
    """`{{c1::answer::hint}}` -> `**answer**` (braces inside math are counted, so `}}` in a formula is fine)."""
    out = []
    pos = 0
    while (match := CLOZE_START_RE.search(text, pos)) is not None:
        out.append(text[pos:match.start()])
        depth, i = 0, match.end()
        while i < len(text):
            if text.startswith("}}", i) and depth == 0:
                break
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[match.end():i]
        out.append(f"**{_split_hint(body)}**")
        pos = i + 2
    out.append(text[pos:])
    return "".join(out)


def _split_hint(body: str) -> str:
    depth = 0
    for i, char in enumerate(body):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and body.startswith("::", i):
            return body[:i]
    return body


def _relink(text: str, card_path: Path, output: Path) -> str:
    """Image paths relative to the card file -> relative to the handout."""
    def fix(match: re.Match) -> str:
        src = match.group(2)
        if EXTERNAL_RE.match(src):
            return match.group(0)
        target = (card_path.parent / src).resolve()
        return match.group(1) + Path(os.path.relpath(target, output.parent.resolve())).as_posix() + match.group(3)

    return IMAGE_RE.sub(fix, text)
