"""Where a card file's lines change when `cardsmith pull` edits it: a field's lines, the tags of an id comment, a
card's lines, a new card's. Pure: lines in (parse.split_lines: each with its own ending), lines out; cardedit.py
decides what to write and checks the result.
"""

from __future__ import annotations

from ..model import FieldText, SourceNote
from ..notetypes import NoteType
from ..parse import COMMENT_RE, FIELD_HEADING, SEPARATOR, card_starts, comment_parts, split_lines, tag_text

BOM = "\ufeff"


def lines_of(text: str) -> tuple[list[str], str]:
    """A file's lines as the parser counts them, each with its ending, and its byte-order mark (or "")."""
    bom = BOM if text.startswith(BOM) else ""  # the parser reads the file as utf-8-sig
    return split_lines(text[len(bom):]), bom


def newline_of(text: str) -> str:
    """The line ending new lines get: the file's (Windows' when it has any)."""
    return "\r\n" if "\r\n" in text else "\n"


def ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def card_span(lines: list[str], source: SourceNote) -> tuple[int, int]:
    """The indexes of a card's first line and of the line after its last (the next card's heading)."""
    start = source.line - 1
    starts, _ = card_starts([line.rstrip("\r\n") for line in lines], start)
    return start, next((s for s in starts if s > start), len(lines))


def line_of(written: tuple[FieldText, ...], index: int) -> int:
    """Where a field is written (0: not written; it is added at the card's end once the others are in place)."""
    return written[index].line


def replace(lines: list[str], start: int, end: int, texts: list[str], newline: str) -> list[str]:
    """Lines [start, end) replaced by `texts` (without endings): each gets the ending of the line it replaces,
    or the file's; the file's last line keeps having none if it had none."""
    old = lines[start:end]
    new = [text + (ending(old[i]) if i < len(old) else newline) for i, text in enumerate(texts)]
    if new and end == len(lines) and lines and not ending(lines[-1]):
        new[-1] = new[-1].rstrip("\r\n")
    return lines[:start] + new + lines[end:]


def set_field(lines: list[str], source: SourceNote, written: tuple[FieldText, ...], index: int, text: str,
              names: list[str]) -> list[str]:
    """The lines with field `index` of the card (its note type's fields: `names`, written as `written` says)
    holding `text`. Where a field is comes from the card's structure, whatever its form."""
    newline = newline_of("".join(lines))
    parts = text.split("\n")
    if index == 0:  # the heading, then a long question's lines between the id comment and its `---`
        separator = source.sections[1].line - 2 if source.sections[1].line != source.id_line + 1 else None
        end = _last_written(lines, source.id_line, separator if separator is not None else source.id_line)
        lines = replace(lines, source.line - 1, source.line, ["## " + parts[0]], newline)
        if separator is not None or len(parts) == 1:
            return replace(lines, source.id_line, end, parts[1:], newline)
        return replace(lines, source.id_line, source.id_line, parts[1:] + [SEPARATOR], newline)
    field_text = written[index]
    if field_text.line and (field_text.text or field_text.format == "raw"):
        start = field_text.line - 1
        _, card_end = card_span(lines, source)
        fields = [s.line - 1 for s in source.sections[2:] if s.name in names and s.line - 1 > start]
        return replace(lines, start, _last_written(lines, start, min(fields + [card_end])), parts if text else [],
                       newline)
    if field_text.line:  # empty: its text goes where its section starts
        at = field_text.line - 1
        added = ([] if at > 0 and lines[at - 1].startswith(FIELD_HEADING) else [""]) + parts
    else:  # not written: a `### Name` section at the card's end
        _, at = card_span(lines, source)
        at = _last_written(lines, source.id_line, at)
        if not ending(lines[at - 1]):
            lines = lines[:at - 1] + [lines[at - 1] + newline] + lines[at:]
        added = ["", FIELD_HEADING + names[index]] + parts
    if at < len(lines) and lines[at].strip():
        added.append("")  # a blank line before what follows (the next card's heading)
    return replace(lines, at, at, added, newline)


def _last_written(lines: list[str], start: int, end: int) -> int:
    """`end`, moved back over the blank lines before it (but not before `start`)."""
    while end > start and not lines[end - 1].strip():
        end -= 1
    return end


def set_tags(lines: list[str], source: SourceNote, tags: list[str]) -> list[str]:
    """The lines with the card's id comment giving `tags` (its other parts as they are), each written as the
    import writes it (parse.tag_text: quoted when it cannot be written as it is)."""
    index = source.id_line - 1
    line = lines[index]
    match = COMMENT_RE.match(line.strip())
    assert match is not None  # the parser found the card by it
    inner = match.group(1)
    spans, at = [], 0  # each part's (start, end) in `inner`: the parser's split, at `;` outside quoted tags
    for part in comment_parts(inner):
        spans.append((at, at + len(part), part))
        at += len(part) + 1
    guid = next((start for start, _, part in spans if part.lstrip().startswith("guid:")), None)
    limit = max(guid - 1, 0) if guid is not None else len(inner.rstrip())
    spans = [(start, min(end, limit), inner[start:min(end, limit)]) for start, end, _ in spans if start < limit]
    found = next(((start, end, part) for start, end, part in spans
                  if part.partition(":")[0].strip() == "tags" and ":" in part), None)
    value = " ".join(map(tag_text, tags))
    if found and tags:
        start, end, part = found
        space = " " if part.endswith(" ") else ""
        inner = inner[:start + part.index(":") + 1] + " " + value + space + inner[end:]
    elif found:
        start, end, _ = found
        inner = inner[:start - 1] + inner[end:] if start else inner[end:].lstrip(";")
    else:
        inner = inner[:limit] + f"; tags: {value}" + inner[limit:]
    offset = line.index(match.group(1), line.index("<!--"))
    return lines[:index] + [line[:offset] + inner + line[offset + len(match.group(1)):]] + lines[index + 1:]


def card_lines(card_id: str, guid: str, tags: list[str], texts: list[str], notetype: NoteType,
               default_type: str) -> list[str]:
    """A new card's lines (without endings): heading, id comment (its type when not the file's, its tags, its
    GUID), its fields' texts."""
    question = texts[0].split("\n")
    parts = [f"id: {card_id}"]
    if notetype.key != default_type:
        parts.append(f"type: {notetype.key}")
    if tags:
        parts.append("tags: " + " ".join(map(tag_text, tags)))
    lines = [f"## {question[0]}", f"<!-- {'; '.join(parts)}; guid: {guid} -->"]
    if len(question) > 1:
        lines += question[1:] + [SEPARATOR]
    for index, text in enumerate(texts[1:], 1):
        if text:
            lines += [""] + ([FIELD_HEADING + notetype.field_names[index]] if index > 1 else []) + text.split("\n")
    return lines
