"""One Anki note -> card text whose build gives the note's fields byte for byte (the importer's fidelity).

Each field is written in the first form that builds back to its exact bytes, and each card is read back
by the build's own stages (parse, resolve, render, cards) to know: Markdown, when the field's note type
field is Markdown and a candidate (htmlmd.py) renders to it exactly; the HTML as written, when the field
is of format html and reads back unchanged (the usual case for a deck made in Anki); else raw form
(parse.raw_html: a ```{=html} block, or a heading ending in {=html}), which keeps any bytes but a
carriage return or NUL. A field that no form gives exactly is said per note, never silently changed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from ..anki.apkg import AnkiNote
from ..errors import NO_LINE, Problem
from ..model import Note
from ..notetypes import NoteType
from ..parse import parse_text
from ..rawform import raw_block, raw_text
from ..render import Renderer
from ..resolve import Resolver, make_note
from .check import warned_markdown_fields
from .htmlmd import markdown_candidate

TAG_RE = re.compile(r"<[^<>]*>")


@dataclass(frozen=True)
class Converted:
    """A note as card text, and what the build makes of it."""

    text: str  # the card's text ("" when no form builds)
    note: Note | None  # the build's note (None: it does not build)
    parts: tuple[tuple[str, str], ...]  # per field its form ("markdown", "html" as written, "raw", "": not written)
    differs: tuple[str, ...]  # the fields whose built HTML is not the original's
    problem: str = ""  # why it does not build
    question: tuple[str, bool] = ("", True)  # its first field as written, and whether that is Markdown

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(form for form, _ in self.parts)

    @property
    def exact(self) -> bool:
        return self.note is not None and not self.differs


class Converter:
    """Writes the notes of one deck: its resolver and a renderer over the staged project, as a build has them."""

    def __init__(self, resolver: Resolver, renderer: Renderer):
        self.resolver = resolver
        self.renderer = renderer

    def convert(self, values: tuple[str, ...], notetype: NoteType, identity: tuple[str, str, str],
                staged: Path, front_matter: str) -> Converted:
        """The card of one note (`identity`: card id, tags as the id comment writes them, GUID), read back as the
        card file at `staged` (after its `front_matter`) will be; each field's form is its first that is exact."""
        # A note that makes no card in Anki (Anki gives it a blank card 1) says its empty fields are empty on purpose.
        no_card = not notetype.is_cloze and not notetype.rule.generated(values, bool(identity[1]))
        choices = [_candidates(value, spec.format, number == 0 or no_card)
                   for number, (value, spec) in enumerate(zip(values, notetype.fields))]
        chosen = [0] * len(values)
        last: Converted | None = None
        for _ in range(3):  # the preferred forms; those that differ in raw form; every field in raw form
            forms = [options[index] for options, index in zip(choices, chosen)]
            text = card_text(identity, notetype, forms)
            note, problem, question, warned = self._read_back(front_matter + text, staged, notetype)
            differs = tuple(spec.name for spec, value, built in zip(notetype.fields, values, note.fields)
                            if built != value) if note else tuple(f.name for f in notetype.fields)
            last = Converted(text, note, tuple(forms), differs if note else (), problem, question)
            if note is not None and not differs and not warned:
                return last
            # Markdown `check` warns about (a `javascript:` or network link) is written verbatim: not linted.
            advance = [i for i, spec in enumerate(notetype.fields)
                       if (note is None or spec.name in differs or spec.name in warned)
                       and chosen[i] + 1 < len(choices[i])]
            if not advance:
                break
            for i in advance:
                chosen[i] += 1
        assert last is not None
        return last if last.note is not None else Converted("", None, last.parts, (), last.problem)

    def _read_back(self, text: str, staged: Path, notetype: NoteType) \
            -> tuple[Note | None, str, tuple[str, bool], set[str]]:
        """The note a build makes of this card text (the card file's front matter first), or why it makes none; its
        first field as written; and the Markdown fields `check` would warn about."""
        parsed = parse_text(text, staged, staged.name)
        problems = list(parsed.problems)
        if not problems and len(parsed.notes) != 1:
            return None, f"it reads as {len(parsed.notes)} cards", ("", True), set()
        if not problems:
            resolved, problems = self.resolver.resolve(parsed.notes[0])
            if resolved is not None:
                rendered, problems = self.renderer.render(resolved)
                if rendered is not None:
                    note, problems = make_note(resolved, rendered, notetype)
                    if note is not None:
                        first = resolved.fields[0]
                        warned = warned_markdown_fields(parsed.notes[0], resolved.fields, notetype, note)
                        return note, "", (first.text, first.format == "markdown"), warned
        errors = [p for p in problems if p.severity == "error"] or problems
        return None, errors[0].message if errors else "it does not build", ("", True), set()


def _candidates(value: str, format: str, written: bool) -> list[tuple[str, str]]:
    """(form, text) for a field's value, best first: Markdown or the HTML as written, then raw form; an empty one is
    left out, unless it must be `written` (the first field, or any of a note that makes no card)."""
    if not value:
        return [("raw", "")] if written else [("", "")]
    found = []
    if format == "markdown":
        candidate = markdown_candidate(value)
        if candidate:
            found.append(("markdown", candidate))
    elif value == value.strip() and "\r" not in value:
        found.append(("html", value))
    return found + [("raw", value)]


def card_text(identity: tuple[str, str, str], notetype: NoteType, forms: list[tuple[str, str]] | tuple,
              distinct: tuple[str, ...] = ()) -> str:
    """A card: the first field on its heading (and the lines of a long question), the second after the id comment,
    every other filled field under its `### Name`; `distinct`: the cards it is not a near-duplicate of."""
    card_id, tags, guid = identity
    meta = (f"id: {card_id}; type: {notetype.key}" + (f"; tags: {tags}" if tags else "")
            + (f"; distinct: {' '.join(distinct)}" if distinct else "") + f"; guid: {guid}")
    (form, first), rest = forms[0], forms[1:]
    heading, _, rest_of_first = (raw_text(first, first=True) if form == "raw" else first).partition("\n")
    long_question = rest_of_first or None
    lines = [f"## {heading}", f"<!-- {meta} -->"]
    if long_question is not None:
        lines += [long_question, "", "---"]
    written = [raw_text(text) if form == "raw" else text for form, text in rest]
    if not notetype.is_cloze and rest and not any(form for form, _ in rest):
        written[0] = raw_block("")  # an empty answer, said so (the build refuses one left out)
    for number, text in enumerate(written):
        if number == 0 and text:
            lines += ["", text]
        elif text:
            lines += ["", f"### {notetype.fields[number + 1].name}", text]
    return "\n".join(lines + [""])


def plain_text(field_html: str) -> str:
    """A field's text without tags (for a card id made from the question)."""
    return html.unescape(TAG_RE.sub(" ", field_html)).replace("\xa0", " ")


def note_problem(package: str, note: AnkiNote, message: str, where: tuple[str, int] | None = None) -> Problem:
    """A problem with one note, named by its GUID and first field: at its card (the card file and the line of its
    id comment) once written, else in the package (which has no lines)."""
    first = " ".join(plain_text(note.fields[0]).split())
    first = first if len(first) <= 40 else first[:37] + "..."
    path, line = where or (package, NO_LINE)
    return Problem(path, line, f"note '{note.guid}' (\"{first}\"): {message}", "warning")
