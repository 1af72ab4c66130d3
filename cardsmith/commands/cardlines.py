"""Where a card file's lines change when `cardsmith pull` edits it: a field's lines, the tags of an id comment, a
card's lines, a new card's. Pure: lines in (parse.split_lines: each with its own ending), lines out; cardedit.py
decides what to write and checks the result.
"""

from __future__ import annotations

import re

from ..model import FieldText, SourceNote
from ..notetypes import NoteType
from ..parse import COMMENT_RE, FIELD_HEADING, SEPARATOR, card_starts, split_lines
from ..resolve import HTML_MARKER

BOM = "\ufeff"
GUID_PART_RE = re.compile(r"(?:^|;)\s*guid:")  # the parser's: `guid:` runs to the end of the comment
TAGS_PART_RE = re.compile(r"(^|;)(\s*tags\s*:)([^;]*)")


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
    """Where a field is written (a field not written is added at the card's end: last)."""
    return written[index].line or 1 << 30


def replace(lines: list[str], start: int, end: int, texts: list[str], newline: str) -> list[str]:
    """Lines [start, end) replaced by `texts` (without endings): each gets the ending of the line it replaces,
    or the file's; the file's last line keeps having none if it had none."""
    old = lines[start:end]
    new = [text + (ending(old[i]) if i < len(old) else newline) for i, text in enumerate(texts)]
    if new and end == len(lines) and lines and not ending(lines[-1]):
        new[-1] = new[-1].rstrip("\r\n")
    return lines[:start] + new + lines[end:]


def set_field(lines: list[str], source: SourceNote, written: tuple[FieldText, ...], index: int, text: str,
              name: str) -> list[str]:
    """The lines with field `index` (named `name`, written as `written` says) of the card holding `text`."""
    newline = newline_of("".join(lines))
    parts = text.split("\n")
    if index == 0:  # the heading, then a long question's lines between the id comment and its `---`
        separated = source.sections[1].line != source.id_line + 1
        heading = source.line - 1
        lines = replace(lines, heading, heading + 1, ["## " + parts[0]], newline)
        more = written[0].text.count("\n")  # the long question's lines, up to its last that is not blank
        if separated or len(parts) == 1:
            return replace(lines, source.id_line, source.id_line + more, parts[1:], newline)
        return replace(lines, source.id_line, source.id_line, parts[1:] + [SEPARATOR], newline)
    field_text = written[index]
    if not field_text.text:  # empty: where its section starts, else in a `### Name` section at the card's end
        if field_text.line:
            at = field_text.line - 1
            below = lines[at - 1].startswith(FIELD_HEADING) if at > 0 else False
            added = ([] if below else [""]) + parts
        else:
            _, at = card_span(lines, source)
            while at > source.id_line and not lines[at - 1].strip():
                at -= 1
            if not ending(lines[at - 1]):
                lines = lines[:at - 1] + [lines[at - 1] + newline] + lines[at:]
            added = ["", FIELD_HEADING + name] + parts
        if at < len(lines) and lines[at].strip():
            added.append("")  # a blank line before what follows (the next card's heading)
        return replace(lines, at, at, added, newline)
    start = field_text.line - 1
    end = start + field_text.text.count("\n") + 1
    if field_text.format == "html":  # written with the marker (or a field of format html): from its line
        above = start
        while above > source.id_line and not lines[above - 1].strip():
            above -= 1
        if above > source.id_line and lines[above - 1].lstrip().startswith(HTML_MARKER):
            start = above - 1
    return replace(lines, start, end, parts if text else [], newline)


def set_tags(lines: list[str], source: SourceNote, tags: list[str]) -> list[str]:
    """The lines with the card's id comment giving `tags` (its other parts as they are)."""
    index = source.id_line - 1
    line = lines[index]
    match = COMMENT_RE.match(line.strip())
    assert match is not None  # the parser found the card by it
    inner = match.group(1)
    guid = GUID_PART_RE.search(inner)
    limit = guid.start() if guid else len(inner.rstrip())
    found = TAGS_PART_RE.search(inner[:limit])
    value = " ".join(tags)
    if found and tags:
        space = " " if found.group(3).endswith(" ") else ""
        inner = inner[:found.start(3)] + " " + value + space + inner[found.end(3):]
    elif found:
        inner = inner[:found.start()] + inner[found.end():] if found.group(1) else inner[found.end():].lstrip(";")
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
        parts.append("tags: " + " ".join(tags))
    lines = [f"## {question[0]}", f"<!-- {'; '.join(parts)}; guid: {guid} -->"]
    if len(question) > 1:
        lines += question[1:] + [SEPARATOR]
    for index, text in enumerate(texts[1:], 1):
        if text:
            lines += [""] + ([FIELD_HEADING + notetype.field_names[index]] if index > 1 else []) + text.split("\n")
    return lines
