"""Decks -> Anki text-import files (CSV/TSV with file headers) or a readable Markdown handout.

The text file carries the same GUIDs, note types, decks, fields and tags as the .apkg, so an
import of either updates the same notes in place.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .. import mathtex
from ..boundary import refuse_sources
from ..cardgen import reveal
from ..config import DeckConfig
from ..errors import BuildError, Problem, counted
from ..files import copy_atomic, write_atomic
from ..model import DeckBuild
from ..pipeline import Project
from ..render import EXTERNAL_RE, MEDIA_TAG_RE, local_file, media_source, with_source
from ..resolve import field_texts

FORMATS = {"csv": ("comma", ",", ".csv"), "tsv": ("tab", "\t", ".tsv"), "markdown": ("", "", ".md")}
# A Markdown image, `![alt](src "title")`, in a card's source (the handout is Markdown: its images are relinked).
MARKDOWN_IMAGE_RE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")


@dataclass(frozen=True)
class ExportResult:
    """One exported deck."""

    deck: DeckConfig
    output: Path
    notes: int
    media_dir: Path | None

    def summary(self, root: Path) -> str:
        from ..errors import display_path

        line = f"{self.deck.name}: {counted(self.notes, 'note')} -> {display_path(self.output, root)}"
        if self.media_dir:
            line += (f"\n  media in {display_path(self.media_dir, root)}: copy them into Anki's collection.media"
                     f" folder (or import the .apkg once)")
        return line


def export_decks(project: Project, fmt: str, out_dir: Path, only: list[str] | None = None) -> list[ExportResult]:
    """Export every deck (or those named in `only`); raise BuildError on any problem."""
    if fmt not in FORMATS:
        raise BuildError([Problem("--format", 0, f"unknown format '{fmt}' (valid: {', '.join(FORMATS)})")])
    refuse_sources(project.root, out_dir, "--out")
    builds, problems = project.prepare_all(project.selected(only))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BuildError(errors)
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
        results.append(ExportResult(build.config, output, len(build.notes), media_dir))
    return results


def text_import(project: Project, build: DeckBuild, fmt: str) -> str:
    """Anki's text-import format: file headers, then one row per note (GUID, note type, deck, fields, tags).

    A note type with fewer fields than the deck's widest leaves its last columns empty (tags stay last).
    """
    name, delimiter, _ = FORMATS[fmt]
    width = max((len(note.fields) for note in build.notes), default=2)
    buffer = io.StringIO()
    buffer.write(f"#separator:{name}\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n"
                 f"#tags column:{4 + width}\n")
    # Every field quoted: Anki reads a line that starts with `#` as a comment, and about one GUID
    # in 91 starts with `#`; quotes also keep separators, quotes and line breaks inside a field.
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for note in build.notes:
        padding = [""] * (width - len(note.fields))
        writer.writerow([note.guid, project.notetypes[note.note_type].model_id, note.subdeck, *note.fields, *padding,
                         " ".join(note.tags)])
    return buffer.getvalue()


def _copy_media(build: DeckBuild, media_dir: Path) -> Path | None:
    media = build.media
    if not media:
        return None
    media_dir.mkdir(parents=True, exist_ok=True)
    for name, source in sorted(media.items()):
        copy_atomic(source, media_dir / name, keep=media)
    return media_dir


def handout(project: Project, build: DeckBuild, output: Path) -> str:
    """A readable Markdown document of the deck: one section per subdeck, math kept as `$…$`.

    The fields' Markdown comes from the card files (through the parse memo), in the order of the notes
    prepare made; fields after the second are headed by their names.
    """
    deck = build.config
    sources = {source.card_id: source for loaded in project.load(deck, built=False)
               for source in (loaded.parsed.notes if loaded.parsed else ())}
    lines = [f"# {deck.name}", ""]
    if deck.description.strip():
        lines += [deck.description.strip(), ""]
    current = None
    for note in build.notes:
        source = sources[note.card_id]
        notetype = project.notetypes[note.note_type]
        if note.subdeck != current:
            current = note.subdeck
            if note.subdeck != deck.name:
                lines += [f"## {note.subdeck[len(deck.name) + 2:].replace('::', ' / ')}", ""]
        fields, _ = field_texts(source, notetype)
        texts = [reveal_cloze(f.text) if notetype.is_cloze and f.name in notetype.rule.cloze_fields else f.text
                 for f in fields]
        first, _, rest = texts[0].partition("\n")
        lines += [f"### {first}", ""]
        for number, (field, text) in enumerate(zip(fields, [rest] + texts[1:])):
            if text.strip():
                label = [f"**{field.name}**", ""] if number >= 2 else []
                lines += label + [_relink(text.strip(), source.path, deck.media_folder, output), ""]
    return "\n".join(lines).rstrip() + "\n"


def reveal_cloze(text: str) -> str:
    """`{{c1::answer::hint}}` -> `**answer**` (a `}}` inside a formula does not end a deletion)."""
    return reveal(text, lambda d: f"**{text[d.answer_start:d.answer_start + len(d.answer)]}**", mathtex.mask_math(text))


def _relink(text: str, card_path: Path, media_folder: Path | None, output: Path) -> str:
    """Image and media paths as the build reads them (render.local_file) -> relative to the handout (`![x](…)`, and
    the tags whose file a build packages: render.MEDIA_TAG_RE)."""
    def relinked(src: str) -> str | None:
        if EXTERNAL_RE.match(src) or src.startswith("/") or not src:
            return None
        target = local_file(src, card_path.parent, media_folder).resolve()
        return Path(os.path.relpath(target, output.parent.resolve())).as_posix()

    def image(match: re.Match) -> str:
        link = relinked(match.group(2))
        return match.group(0) if link is None else match.group(1) + link + match.group(3)

    def media_tag(match: re.Match) -> str:
        source = media_source(match.group(0))
        link = relinked(html.unescape(source[1])) if source else None
        return match.group(0) if link is None else with_source(match.group(0), source[0], html.escape(link))  # type: ignore[index]

    # Found in the text with its code blanked out (the same length): code shows a tag as text, packaged by no build.
    for pattern, fix in ((MARKDOWN_IMAGE_RE, image), (MEDIA_TAG_RE, media_tag)):
        masked = mathtex.mask_code(text)
        text = "".join(_substituted(text, pattern.finditer(masked), fix))
    return text


def _substituted(text: str, matches: Iterator[re.Match], fix: Callable[[re.Match], str]) -> Iterator[str]:
    """`text` in pieces, each match found in a masked copy of it (same offsets) replaced by fix(match), unless it
    takes in masked code (then the text stays as written)."""
    at = 0
    for match in matches:
        written = text[match.start():match.end()]
        yield text[at:match.start()] + (fix(match) if written == match.group(0) else written)
        at = match.end()
    yield text[at:]
