"""SourceNote + note types + deck -> ResolvedNote (stage 3), and a rendered note -> Note with its cards.

Here, once, a card's sections become its note type's fields by name, and the card gets its GUID
(from the deck's fixed id and the card's id, never from its text) and its full deck name. After
rendering, cardgen.py says which cards Anki makes of it: a note that makes none is refused when a
field every card needs is empty (a cloze note without a deletion) and warned about otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import genanki

from .cardgen import CLOZE_OPEN_RE, cloze_numbers, field_is_empty
from .config import DeckConfig
from .errors import Problem
from .model import DeckMedia, FieldText, Note, Rendered, ResolvedNote, Section, SourceNote, content_hash
from .notetypes import NoteType
from .parse import MAX_CARD_CHARS, size_problem
from .rawform import raw_html


def guid(deck: DeckConfig, source: SourceNote) -> str:
    """The note's identity: its explicit `guid:`, or one namespaced by the deck's fixed id, never from its text."""
    return source.guid or genanki.guid_for(deck.deck_id, source.card_id)


class Resolver:
    """Resolves the cards of one deck: its note types, its id (GUIDs) and its name and subdeck mode (decks)."""

    def __init__(self, deck: DeckConfig, notetypes: dict[str, NoteType]):
        self.deck = deck
        self.notetypes = notetypes
        folder = deck.media_folder
        self.media = DeckMedia(folder, frozenset(deck.missing_media)) \
            if folder or deck.missing_media else None  # one, shared by its notes
        self._subdecks: dict[tuple[Path, str | None], str] = {}
        # field name (case folded) -> the note types that have it: a `###` line naming one in a card of another type
        self._owners: dict[str, list[str]] = {}
        for key, notetype in sorted(notetypes.items()):
            for name in notetype.field_names:
                self._owners.setdefault(name.casefold(), []).append(key)

    def subdeck(self, source: SourceNote) -> str:
        """The full name of the deck the card goes to (its file's front matter, or its file's name)."""
        key = (source.path, source.subdeck)
        found = self._subdecks.get(key)
        if found is None:
            deck = self.deck
            if source.subdeck:
                found = f"{deck.name}::{source.subdeck}"
            elif deck.subdecks == "per-file":
                stem = source.path.stem
                title = re.sub(r"^\d+[-_ ]*", "", stem).replace("-", " ").replace("_", " ").strip()
                found = f"{deck.name}::{(title or stem).capitalize()}"
            else:
                found = deck.name
            self._subdecks[key] = found
        return found

    def resolve(self, source: SourceNote) -> tuple[ResolvedNote | None, list[Problem]]:
        """The card's fields by name, GUID and deck; None (with the problems) when it cannot be a note."""
        notetype = self.notetypes.get(source.note_type)
        if notetype is None:
            known = ", ".join(sorted(self.notetypes))
            return None, [Problem(source.shown_path, source.id_line,
                                  f"unknown note type '{source.note_type}' (known: {known})")]
        fields, problems = field_texts(source, notetype, self._owners)
        if any(p.severity == "error" for p in problems):
            return None, problems
        return resolved_note(source, guid(self.deck, source), fields, self.subdeck(source), self.media), problems


def resolved_note(source: SourceNote, note_guid: str, fields: tuple[FieldText, ...], subdeck: str,
                  deck_media: DeckMedia | None = None) -> ResolvedNote:
    """The ResolvedNote of a card (its sections, now fields, left behind)."""
    return ResolvedNote(source.card_id, source.note_type, source.tags, source.path, source.shown_path, source.line,
                        source.id_line, note_guid, fields, subdeck, deck_media)


def field_texts(source: SourceNote, notetype: NoteType, owners: dict[str, list[str]] | None = None
                ) -> tuple[tuple[FieldText, ...], list[Problem]]:
    """The card's sections as its note type's fields, in their order (the one place sections become fields).

    A `### Name` line that names no field stays in the field before it, as Markdown; it is warned about
    when it names a field of another note type (`owners`: field name -> note types) or is one edit away
    from a field of this one.
    """
    names = notetype.field_names
    index = {name: number for number, name in enumerate(names)}
    texts: list[list[str] | None] = [None] * len(names)
    lines = [0] * len(names)
    problems: list[Problem] = []
    shown = source.shown_path
    valid = f"fields of note type '{notetype.key}': {', '.join(names)}"
    current = 0  # the field the text goes to
    for number, section in enumerate(source.sections):
        if number == 1 and len(names) == 1:
            if section.text.strip():
                problems.append(Problem(shown, _first_line(section), f"note type '{notetype.key}' has one field "
                                        f"({names[0]}): the text after the heading has no field to go to"))
            continue
        target = number if number < 2 else index.get(section.name, -1)  # type: ignore[arg-type]
        if target < 0:  # a `### ` line that names no field: Markdown in the field before it
            problems += _unknown_field(section.name or "", section.line, source, notetype, owners)
            if texts[current] is not None:
                texts[current].append(section.text)  # type: ignore[union-attr]
            continue
        text = section.text if number < 2 else section.text.partition("\n")[2]
        if texts[target] is not None and "".join(texts[target]).strip():  # type: ignore[arg-type]
            first = lines[target]
            problems.append(Problem(shown, section.line, f"field '{names[target]}' is given twice (first at line "
                                    f"{first}); {valid}"))
            continue
        texts[target] = [text]
        lines[target] = _first_line(section._replace(text=text, line=section.line + (number >= 2)))
        current = target
    fields = tuple(_field_text(name, "\n".join(parts).strip() if parts else "", lines[i] if parts else 0, spec.format,
                               i == 0) for i, (name, parts, spec) in enumerate(zip(names, texts, notetype.fields)))
    if fields and lines[0] == source.line:  # the question starts with its heading, and goes on below the id comment
        fields = (fields[0]._replace(gap=source.id_line - source.line),) + fields[1:]
    size = sum(len(f.text) for f in fields if f.format != "raw")
    if size > MAX_CARD_CHARS:  # parse counted a `###` line naming no field as raw: its field is Markdown after all
        problems.append(size_problem(shown, source.line, size, 0))
    if not notetype.is_cloze and len(names) > 1 and not any(f.text or f.format == "raw" for f in fields[1:]):
        answer = source.sections[1]
        problems.append(Problem(shown, _first_line(answer), "empty answer"))
    return fields, problems


def _field_text(name: str, text: str, line: int, format: str, first: bool) -> FieldText:
    """A field as written; one in raw form is its HTML, byte for byte (parse.raw_html)."""
    raw = raw_html(text, first) if "{=html}" in text else None
    return FieldText(name, text, line, format) if raw is None else FieldText(name, raw, line, "raw")


def _first_line(section: Section) -> int:
    """The line of a section's first written line (its own line when it holds nothing)."""
    text = section.text
    if not text.strip():
        return section.line
    stripped = text.lstrip()
    return section.line + text[:len(text) - len(stripped)].count("\n")


def _unknown_field(name: str, line: int, source: SourceNote, notetype: NoteType,
                   owners: dict[str, list[str]] | None) -> list[Problem]:
    """A warning for a `### Name` line that is probably meant as a field (a likely mistake), else nothing."""
    names = notetype.field_names
    others = [key for key in (owners or {}).get(name.casefold(), []) if key != notetype.key]
    close = [field for field in names if _one_edit(name.casefold(), field.casefold())]
    if not others and not close:
        return []
    if close:
        why = f"is not a field of note type '{notetype.key}': did you mean '{close[0]}'?"
    else:
        why = (f"is a field of note type {', '.join(repr(o) for o in others)}, not of this card's "
               f"'{notetype.key}' (its `type:`?)")
    return [Problem(source.shown_path, line, f"`### {name}` {why} It stays a heading in the field before it "
                    f"(fields of '{notetype.key}': {', '.join(names)})", "warning")]


def _one_edit(a: str, b: str) -> bool:
    """Whether two names differ by at most one typo: a character inserted, deleted or replaced, or two neighbours
    swapped."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if len(a) == len(b) and a[start + 2:] == b[start + 2:] and a[start:start + 2] == b[start:start + 2][::-1]:
        return True
    return a[start + (len(a) == len(b)):] == b[start + 1:]


def make_note(resolved: ResolvedNote, rendered: Rendered, notetype: NoteType) -> tuple[Note | None, list[Problem]]:
    """The note a rendered card becomes, with the cards Anki makes of it; None (with the problems) if it makes
    no card because a field every card needs is empty."""
    problems = card_problems(notetype, resolved, rendered.fields)
    if any(p.severity == "error" for p in problems):
        return None, problems
    cards = notetype.rule.cards(rendered.fields, bool(resolved.tags))
    note = Note(resolved.card_id, resolved.guid, resolved.note_type, rendered.fields, resolved.tags, resolved.subdeck,
                rendered.media, cards, content_hash(resolved.note_type, rendered.fields, resolved.tags, rendered.media),
                resolved.shown_path, resolved.id_line, tuple(f.line for f in resolved.fields))
    return note, problems


def card_problems(notetype: NoteType, resolved: ResolvedNote, fields: tuple[str, ...]) -> list[Problem]:
    """Why the note makes no card (an error when a field every card needs is empty), or nothing.

    Nothing when the fields it would be about are all in raw form: HTML kept as a note in Anki has it (Anki
    gives such a note a blank card 1, and so does the build).
    """
    shown, line = resolved.shown_path, resolved.line
    raw = {f.name for f in resolved.fields if f.format == "raw"}
    if notetype.is_cloze:
        if set(notetype.rule.cloze_fields) <= raw:  # its deletions are as a note in Anki has them
            return []
        cloze = [value for name, value in zip(notetype.field_names, fields) if name in notetype.rule.cloze_fields]
        numbers = [int(n) for value in cloze for match in CLOZE_OPEN_RE.finditer(value)
                   for n in match.group(1).split(",") if n]
        if 0 in numbers:
            return [Problem(shown, line, "cloze numbers start at c1: {{c0::…}} makes no card")]
        if not any(cloze_numbers(value) for value in cloze):
            return [Problem(shown, line, "cloze card has no deletion: mark the hidden part as {{c1::...}}")]
        return []
    if notetype.rule.generated(fields, bool(resolved.tags)):
        return []
    names = notetype.field_names
    empty = [name for name in notetype.rule.required(bool(resolved.tags))
             if field_is_empty(fields[names.index(name)])]
    if {name for name, value in zip(names, fields) if field_is_empty(value)} <= raw:
        return []  # every empty field is written empty on purpose (raw form), as a note in Anki has it
    if empty:
        return [Problem(shown, line, f"field{'s' if len(empty) > 1 else ''} {', '.join(repr(e) for e in empty)} "
                        f"{'are' if len(empty) > 1 else 'is'} empty, and note type '{notetype.key}' makes no card "
                        f"without {'them' if len(empty) > 1 else 'it'} (fields: {', '.join(names)})")]
    return [Problem(shown, line, f"makes no card: no front of note type '{notetype.key}' shows a field this note "
                    "fills (Anki then adds an empty card 1); fill the fields its templates need "
                    f"(fields: {', '.join(names)})", "warning")]
