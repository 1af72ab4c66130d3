"""Edits `cardsmith pull` makes to a card file: a field's text, a card's tags, a card removed, new cards added.

As `cardsmith ids` edits: the lines are the parser's (parse.split_lines), each keeps its own line ending and
new lines get the file's; a field is replaced where the parser found it (cardlines.py), nothing else. Every
edit is read back at once (parsed, resolved, rendered as a build does) and kept only when the card then
builds to exactly what was asked and the file's other cards are as they were; otherwise it is left out, and
the result says why.
"""

from __future__ import annotations

import bisect
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from ..config import DeckConfig
from ..model import FieldText, Note, ResolvedNote, SourceNote
from ..notetypes import NoteType
from ..parse import DEFAULT_TYPE, front_matter_end, parse_text, split_lines, valid_quoted_tag
from ..render import Renderer
from ..resolve import Resolver, _field_text, field_texts, make_note
from .fieldsource import MissingMedia, candidates, with_paths
from .ids import slug_for
from . import cardlines
from .syncplan import deck_key

class Unwritable(Exception):
    """An edit that cannot be written so that the card builds to exactly what was asked (the message says why)."""


@dataclass(frozen=True)
class CardEdit:
    """What to change in one card: fields (index -> Anki's HTML), tags, or the whole card removed."""

    note: Note  # the card as the build made it
    fields: tuple[tuple[int, str], ...] = ()
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    delete: bool = False


@dataclass(frozen=True)
class NewCard:
    """A note added in Anki, to write as a new card (its GUID kept, so that it stays the same note)."""

    notetype: str
    fields: tuple[str, ...]  # Anki's HTML
    tags: tuple[str, ...]
    guid: str
    deck: str  # where its cards are in Anki


@dataclass
class FileEdit:
    """A card file's text after its edits, and what became of each."""

    path: Path
    shown: str
    read: bytes | None  # None: a new file
    text: str
    done: list[tuple[str, int]] = field(default_factory=list)  # (card id, line)
    failed: list[tuple[str, int, str]] = field(default_factory=list)  # (card id, line, why)
    added: list[tuple[str, int, str]] = field(default_factory=list)  # (new card id, line, its GUID)
    file_tags: tuple[str, ...] = ()  # the tags the file's front matter gives every card

    @property
    def new(self) -> bytes:
        return self.text.encode("utf-8")

    @property
    def changed(self) -> bool:
        return self.read is None and bool(self.added) or self.read is not None and self.new != self.read


class Editor:
    """Edits the card files of one deck, checking each edit with the deck's resolver and the project's renderer."""

    def __init__(self, deck: DeckConfig, notetypes: dict[str, NoteType], renderer: Renderer, media: dict[str, Path]):
        self.resolver = Resolver(deck, notetypes)
        self.notetypes = notetypes
        self.renderer = renderer
        self.media = media  # the deck's media names -> files

    def edit(self, path: Path, shown: str, raw: bytes | None, edits: Sequence[CardEdit], new: Sequence[NewCard],
             taken: set[str]) -> FileEdit:
        """Apply `edits` to the file's cards and append `new` cards (ids unique among `taken`, which they join)."""
        text = raw.decode("utf-8") if raw is not None else self._front_matter(new)
        result = FileEdit(path, shown, raw, text)
        if edits:
            self._edit_cards(result, path, shown, edits)
        if new:
            result.file_tags = _file_defaults(text, path, shown)[1]
            self._add(result, path, shown, new, taken)
        return result

    def _add(self, result: FileEdit, path: Path, shown: str, new: Sequence[NewCard], taken: set[str]) -> None:
        """Append the new cards: each checked alone under the file's front matter, then all of them in the file
        with one parse (one per card made 1,000 new notes take 26 s)."""
        lines, bom = cardlines.lines_of(result.text)
        end = front_matter_end([line.rstrip("\r\n") for line in lines])
        head = bom + "".join(lines[:end + 1] if end is not None else [])
        before, newline = set(taken), cardlines.newline_of(result.text)
        cards, failed = [], []
        for card in new:
            try:
                _, card_id, _, card_text, same = self._new(head, path, shown, card, taken, newline)
                cards.append((card, card_id, card_text, same))
            except Unwritable as why:
                failed.append((card.guid, 0, str(why)))
        pieces, added, after = [result.text], [], 0
        for card, card_id, card_text, _ in cards:
            if after:  # after the previous new card, and a blank line
                pieces.append(newline + card_text)
                line = after + 1
            else:
                pieces[0], line = _appended(result.text, card_text)
            after = line + len(split_lines(card_text))
            added.append((card_id, line, card.guid))
        text = "".join(pieces)
        parsed = parse_text(result.text, path, shown)
        expected = {n.card_id: _same(n) for n in parsed.notes} | {card_id: same for _, card_id, _, same in cards}
        try:
            self._check(text, path, shown, expected, _errors(parsed))
        except Unwritable as why:  # the cards read otherwise in the file than alone: none is written
            taken.intersection_update(before)
            text, added = result.text, []
            failed += [(card.guid, 0, str(why)) for card, _, _, _ in cards]
        result.text = text
        result.added += added
        result.failed += failed

    def _edit_cards(self, result: FileEdit, path: Path, shown: str, edits: Sequence[CardEdit]) -> None:
        """Edit each card in its own lines under the file's front matter, with the card after it (a card's last
        field reads otherwise at the file's end), then check the whole file once: edited in the whole file, each
        edit parsed it twice (a find-and-replace over 1,000 cards took 28 s)."""
        lines, bom = cardlines.lines_of(result.text)
        parsed = parse_text(result.text, path, shown)
        sources = {n.card_id: n for n in parsed.notes}
        expected = {key: _same(n) for key, n in sources.items()}
        end = front_matter_end([line.rstrip("\r\n") for line in lines])
        head = lines[:end + 1] if end is not None else []
        starts = sorted(n.line - 1 for n in parsed.notes) + [len(lines)]  # each card's first line, as the parser's
        new_lines, done = list(lines), []
        # From the last card in the file (as it is now) to the first: replacing a card's lines moves none to come.
        for edit in sorted(edits, key=lambda e: -sources[e.note.card_id].line if e.note.card_id in sources else 0):
            key = edit.note.card_id
            try:
                source = sources.get(key)
                if source is None:
                    raise Unwritable("the card changed in its file while pull ran: run pull again")
                start = source.line - 1
                stop = starts[bisect.bisect_right(starts, start)]
                after = lines[stop:starts[bisect.bisect_right(starts, stop)] if stop < len(lines) else stop]
                edited = self._card(bom + "".join(head + lines[start:stop] + after), path, shown, edit)
                edited_lines = cardlines.lines_of(edited)[0]
                if edited_lines[len(edited_lines) - len(after):] != after:
                    raise Unwritable("the edit would change the card after it")
                new_lines[start:stop] = edited_lines[len(head):len(edited_lines) - len(after)]
                if edit.delete:
                    expected.pop(key)
                else:
                    expected[key] = _same(next(n for n in parse_text(edited, path, shown).notes if n.card_id == key))
                done.append((key, edit.note.line))
            except Unwritable as why:
                result.failed.append((key, edit.note.line, str(why)))
        text = bom + "".join(new_lines)
        try:
            self._check(text, path, shown, expected, _errors(parsed))
        except Unwritable as why:  # a card reads otherwise in the file than alone: none is written
            result.failed += [(key, line, str(why)) for key, line in done]
            return
        result.text = text
        result.done += done

    def _front_matter(self, new: Sequence[NewCard]) -> str:
        """A new card file's front matter: the subdeck its new cards are in, when they are all in one."""
        decks = {deck_key(card.deck) for card in new}
        prefix = deck_key(self.resolver.deck.name) + "::"
        if len(decks) != 1 or not next(iter(decks)).startswith(prefix):
            return ""
        subdeck = new[0].deck.split("::", self.resolver.deck.name.count("::") + 1)[-1]
        return f"---\nsubdeck: {_yaml_scalar(subdeck)}\n---\n\n"

    # One card ----------------------------------------------------------------------------------------------

    def _card(self, text: str, path: Path, shown: str, edit: CardEdit) -> str:
        """The text with one card edited, checked."""
        lines, bom = cardlines.lines_of(text)
        parsed = parse_text(text, path, shown)
        sources = {n.card_id: n for n in parsed.notes}
        source = sources.get(edit.note.card_id)
        note = edit.note
        if source is None or self._built(source) != _want(note.fields, note.tags, note.guid):
            raise Unwritable("the card changed in its file while pull ran: run pull again")
        others = {key: _same(n) for key, n in sources.items() if key != source.card_id}
        if edit.delete:
            start, end = cardlines.card_span(lines, source)
            new_text = bom + "".join(lines[:start] + lines[end:])
            self._check(new_text, path, shown, others, _errors(parsed))
            return new_text
        notetype = self.notetypes[source.note_type]
        written, _ = field_texts(source, notetype)
        fields = list(note.fields)
        choices: list[tuple[int, list[str]]] = []
        for index, target in edit.fields:
            fields[index] = target
            texts = [t for t in self._texts(source.path, notetype, written[index], note.fields[index], target, index)
                     if self._renders(source, notetype, index, t, target)]
            if not texts:
                raise Unwritable(f"field '{notetype.field_names[index]}': no text of a card file renders to exactly "
                                 "its HTML in Anki (a carriage return?)")
            choices.append((index, texts))
        file_tags = _file_defaults(text, path, shown)[1]
        tags = _new_tags(source, file_tags, edit.add_tags, edit.remove_tags)
        want = _want(fields, [*file_tags, *tags] if tags is not None else source.tags, note.guid)
        # The most readable text of each field; if the card does not read back so, each field verbatim.
        # Fields from the last in the file to the first, so that each is where the parser found it; those not
        # written yet then, at the card's end.
        ordered = sorted(choices, key=lambda choice: -cardlines.line_of(written, choice[0]))
        for pick in (0, -1):
            new_lines = list(lines)
            for index, texts in ordered:
                new_lines = cardlines.set_field(new_lines, source, written, index, texts[pick],
                                                notetype.field_names)
            if tags is not None:
                new_lines = cardlines.set_tags(new_lines, source, tags)
            new_text = bom + "".join(new_lines)
            try:
                self._check(new_text, path, shown, others, _errors(parsed), (source.card_id, want))
                return new_text
            except Unwritable:
                if pick == -1 or all(len(texts) == 1 for _, texts in choices):
                    raise
        raise AssertionError("unreachable")

    def _texts(self, path: Path, notetype: NoteType, written: FieldText | None, old_html: str, target: str,
               index: int) -> list[str]:
        """The candidate texts of a field (fieldsource.candidates), its media named by their paths."""
        def paths(field_html: str) -> str:
            return with_paths(field_html, self.media, path.parent, self.resolver.deck.media_folder)

        try:
            paths(target)
        except MissingMedia as missing:
            raise Unwritable(f"field '{notetype.field_names[index]}' uses the media file '{missing}', which is not "
                             "in the project: add it next to the card file and edit the card by hand") from None
        current = written.text if written is not None and written.line else ""
        fmt = written.format if written is not None else notetype.fields[index].format
        return list(candidates(target, current, old_html, fmt, index == 0, paths))

    def _renders(self, source: SourceNote, notetype: NoteType, index: int, text: str, target: str) -> bool:
        """Whether `text`, as field `index` of the card, renders to exactly `target`."""
        spec = notetype.fields[index]
        written = _field_text(spec.name, text, 1, spec.format, index == 0)  # resolve's rule (raw form or not)
        one = ResolvedNote(source.card_id, notetype.key, source.tags, source.path, source.shown_path,
                           source.line, source.id_line, "", (written,), "", self.resolver.media)
        rendered, _ = self.renderer.render(one)
        return rendered is not None and _nfc(rendered.fields[0]) == _nfc(target)

    def _built(self, source: SourceNote) -> tuple | None:
        """A card as a build makes it (see _want), or None when it does not build."""
        resolved, problems = self.resolver.resolve(source)
        if resolved is None or any(p.severity == "error" for p in problems):
            return None
        rendered, _ = self.renderer.render(resolved)
        if rendered is None:
            return None
        note, _ = make_note(resolved, rendered, self.notetypes[source.note_type])
        return None if note is None else _want(note.fields, note.tags, note.guid)

    def _check(self, text: str, path: Path, shown: str, others: dict[str, tuple], errors: int,
               card: tuple[str, tuple] | None = None) -> None:
        """Raise Unwritable unless the text's cards are `others` as they were (with no more than `errors` problems
        in the file) and `card` (id, what _want says) builds to exactly that."""
        parsed = parse_text(text, path, shown)
        found = {n.card_id: n for n in parsed.notes}
        expected = set(others) | ({card[0]} if card else set())
        new_errors = [p for p in parsed.problems if p.severity == "error"]
        if len(new_errors) > errors:  # the parser's own words (a card over the size limit, say) say it best
            raise Unwritable(f"the card would not read back: {new_errors[-1].message}")
        if set(found) != expected or any(_same(found[key]) != value for key, value in others.items()):
            raise Unwritable("the edit would change how the file's other cards read (a line of it the parser takes "
                             "for a card, a field or a fence?)")
        if card is not None and self._built(found[card[0]]) != card[1]:
            raise Unwritable("the card would not build to exactly what Anki holds")

    # New cards ---------------------------------------------------------------------------------------------

    def _new(self, text: str, path: Path, shown: str, card: NewCard, taken: set[str], newline: str | None = None
             ) -> tuple[str, str, int, str, tuple]:
        """The text with a new card appended (checked), its id, line, its own lines and what it reads as; its lines
        end in `newline` (default: the text's)."""
        notetype = self.notetypes[card.notetype]
        default, file_tags = _file_defaults(text, path, shown)
        from_file = {t.casefold() for t in file_tags}
        probe = SourceNote("new", path, shown, 1, 2, notetype.key, (), None, card.guid, ())
        texts = []
        for index, target in enumerate(card.fields):
            found = next((t for t in self._texts(path, notetype, None, "", target, index)
                          if self._renders(probe, notetype, index, t, target)), None) if target else ""
            if found is None:
                raise Unwritable(f"field '{notetype.field_names[index]}': no text of a card file renders to exactly "
                                 "its HTML in Anki")
            texts.append(found)
        if not texts[0]:
            raise Unwritable("its first field is empty, and a card starts with its `## ` heading")
        bad = [t for t in card.tags if not valid_quoted_tag(t)]
        if bad:
            raise Unwritable(f"tag '{bad[0]}' cannot be written in a card file")
        parsed = parse_text(text, path, shown)
        question = _field_text(notetype.fields[0].name, texts[0], 1, notetype.fields[0].format, True)
        card_id = slug_for(question.text, taken)  # from the question's text (in raw form too: its HTML)
        newline = newline or cardlines.newline_of(text)
        tags = [t for t in card.tags if t.casefold() not in from_file]
        card_text = "".join(line + newline for line in cardlines.card_lines(card_id, card.guid, tags, texts,
                                                                             notetype, default))
        new_text, line = _appended(text, card_text)
        want = _want(card.fields, {t.casefold() for t in card.tags} | from_file, card.guid)
        self._check(new_text, path, shown, {n.card_id: _same(n) for n in parsed.notes}, _errors(parsed),
                    (card_id, want))
        found = next(n for n in parse_text(new_text, path, shown).notes if n.card_id == card_id)
        return new_text, card_id, line, card_text, _same(found)


def _appended(text: str, card_text: str) -> tuple[str, int]:
    """The text with a card's lines after its last line (and a blank line), and the card's first line."""
    lines, bom = cardlines.lines_of(text)
    newline = cardlines.newline_of(text)
    if lines and not cardlines.ending(lines[-1]):
        lines[-1] += newline
    if lines and lines[-1].strip():
        lines.append(newline)
    return bom + "".join(lines) + card_text, len(lines) + 1


def _yaml_scalar(value: str) -> str:
    """`value` as YAML: as it is when YAML reads it back so, else quoted (a JSON string is YAML)."""
    try:
        if "\n" not in value and yaml.safe_load(f"x: {value}") == {"x": value}:
            return value
    except yaml.YAMLError:
        pass
    return json.dumps(value, ensure_ascii=False)


def _errors(parsed) -> int:
    return sum(1 for p in parsed.problems if p.severity == "error")


def _want(fields: Sequence[str], tags, guid: str) -> tuple:
    """What a card must build to: its fields (NFC), its tags (case-folded) and its GUID."""
    return tuple(_nfc(f) for f in fields), {t.casefold() for t in tags}, guid


def _file_defaults(text: str, path: Path, shown: str) -> tuple[str, tuple[str, ...]]:
    """What the file's front matter gives a card that says nothing: its note type, and its tags."""
    lines, _ = cardlines.lines_of(text)
    end = front_matter_end([line.rstrip("\r\n") for line in lines])
    head = "".join(lines[:end + 1]).rstrip("\r\n") if end is not None else ""
    probe = parse_text(head + "\n## p\n<!-- id: p -->\n\nx\n", path, shown).notes
    return (probe[0].note_type, probe[0].tags) if probe else (DEFAULT_TYPE, ())


def _same(source: SourceNote) -> tuple:
    """What a card reads as, wherever it is in its file: the blank lines after its last field are the parser's
    only at the file's end (the card before one deleted at the end reads the same)."""
    return (source.note_type, source.tags, source.subdeck, source.guid,
            tuple((s.name, s.text.rstrip()) for s in source.sections))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _new_tags(source: SourceNote, file_tags: Sequence[str], add: Sequence[str], remove: Sequence[str]
              ) -> list[str] | None:
    """The tags the card's id comment gives after the edit (None: no tag changes); raise Unwritable for a tag
    it cannot give or take away (one its file's front matter gives every card)."""
    if not add and not remove:
        return None
    from_file = {t.casefold() for t in file_tags}
    tags = [t for t in source.tags if t.casefold() not in from_file]  # the parser's: the file's, then the comment's
    for tag in remove:
        if tag.casefold() in from_file:
            raise Unwritable(f"tag '{tag}' was removed in Anki, but it comes from the file's front matter: remove it "
                             "there (from all of the file's cards), or keep it")
        tags = [t for t in tags if t.casefold() != tag.casefold()]
    for tag in add:
        if not valid_quoted_tag(tag):
            raise Unwritable(f"tag '{tag}' (added in Anki) cannot be written in a card file")
        tags.append(tag)
    return tags


