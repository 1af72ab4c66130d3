"""Card files -> SourceNotes (stage 2 of the pipeline).

A card starts at a `## ` heading (its first field), followed on the next line by an id comment
`<!-- id: slug; tags: a b; type: cloze -->`. A line holding only `---` ends extra lines of a long
question (code, a formula, an image); what follows the id comment (or that line) goes to the second
field, and each top-level `### Name` line starts the field Name (resolve.py knows the names). A
card ends at the next `## ` heading. Headings, `---` and `###` lines inside code fences are code.

A field in raw form (rawform.py) is HTML kept byte for byte: a fenced block whose info string is
`{=html}`, or for the first field a heading ending in ` {=html}`; it counts against its own size limit.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import deck_name
from .errors import Problem
from .files import read_limited
from .lockfile import CONFLICT_RE
from .model import Section, SourceNote
from .rawform import RAW_ATTRIBUTE, raw_html
from .schema import Invalid, Key, nonempty_string, read_mapping
from .yamlfile import load_yaml

COMMENT_KEYS = ("id", "tags", "type", "distinct", "guid")
ID_RE = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,78}[a-z0-9])?")
TAG_RE = re.compile(r"[^\s\"]+")
# What a quoted tag (`tags: "a;b"`, JSON string syntax) may not hold: what Anki splits tags at, and controls.
QUOTED_TAG_FORBIDDEN_RE = re.compile("[ \u3000\x00-\x1f\x7f]")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
COMMENT_RE = re.compile(r"^<!--(.*)-->\s*$")
FIELD_HEADING = "### "
# A line ends at `\n`, `\r\n` or `\r`, and nowhere else (str.splitlines also splits at a form feed or U+2028).
LINE_END_RE = re.compile(r"\r\n|\r|\n")
SEPARATOR = "---"
DEFAULT_TYPE = "basic"
# Python-Markdown's time grows with the square of a card's size in places (it rebuilds the text at
# every inline match, and splits a block one heading at a time): at this size its worst case is about
# 2 s, at 100 KB minutes. The longest card of the shipped deck has 1,300 characters.
MAX_CARD_CHARS = 20_000
# HTML in raw form is not rendered (every stage reads it in linear time): a Japanese dictionary deck's note holds
# 31,000 characters of it. A card's raw fields have at most this many in all.
MAX_RAW_CHARS = 1_000_000


@dataclass(frozen=True)
class ParsedFile:
    """A parsed card file: its notes and the problems found in it."""

    path: Path
    notes: tuple[SourceNote, ...] = ()
    problems: tuple[Problem, ...] = ()


def slug(text: str, limit: int = 48, words: int | None = None) -> str:
    """`text` as lower-case ASCII words joined by `-` (accents folded away): at most `words` words, cut at a word
    within `limit` characters. The one slug rule: card ids, card file, deck file and note type folder names."""
    ascii_text = unicodedata.normalize("NFKD", re.sub(r"[\W_]+", " ", text)).encode("ascii", "ignore").decode().lower()
    found = re.findall(r"[a-z0-9]+", ascii_text)[:words]
    result = ""
    for word in found:
        if len(result) + len(word) + 1 > limit:
            break
        result = f"{result}-{word}" if result else word
    return result or "-".join(found)[:limit].strip("-")


def unique(candidate: str, taken: set[str]) -> str:
    """`candidate`, or `candidate-2`, `-3`, … the first that is not in `taken` (which it joins)."""
    name, number = candidate, 2
    while name in taken:
        name, number = f"{candidate}-{number}", number + 1
    taken.add(name)
    return name


def valid_tag(tag: str) -> bool:
    """A tag written as it is: no spaces or quotes; `::` separates non-empty levels."""
    return bool(TAG_RE.fullmatch(tag)) and all(tag.split("::"))


def valid_quoted_tag(tag: str) -> bool:
    """A tag Anki keeps as it is (none of the characters it splits tags at or removes; non-empty `::` levels)."""
    return bool(tag) and not QUOTED_TAG_FORBIDDEN_RE.search(tag) and all(tag.split("::"))


def tag_text(tag: str) -> str:
    """A tag as an id comment writes it: as it is when it can be, else quoted (JSON string syntax) with every
    space, line break, `>` (a comment ends at `-->`) and invisible character escaped."""
    if valid_tag(tag) and ";" not in tag and "-->" not in tag:
        return tag
    return "".join(c if c.isprintable() and not c.isspace() and c != ">" else _escaped(c)
                   for c in json.dumps(tag, ensure_ascii=False))


def _escaped(char: str) -> str:
    """A character as a JSON escape (one beyond the first 65,536 as its UTF-16 surrogate pair)."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def parse_file(path: Path, shown: str, default_type: str = DEFAULT_TYPE) -> ParsedFile:
    """Read and parse one card file; problems are collected, never raised."""
    try:
        raw = read_limited(path)
    except OSError as exc:
        return ParsedFile(path, problems=(Problem(shown, 0, f"cannot read file: {exc.strerror}"),))
    return parse_bytes(raw, path, shown, default_type)


def parse_bytes(raw: bytes, path: Path, shown: str, default_type: str = DEFAULT_TYPE) -> ParsedFile:
    """Parse a card file's bytes: decode, refuse binary files, then parse_text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return ParsedFile(path, problems=(Problem(shown, line, "not valid UTF-8 text (is this a binary file?)"),))
    if "\x00" in text:
        return ParsedFile(path, problems=(Problem(shown, text[: text.index("\x00")].count("\n") + 1,
                                                  "file contains a NUL byte (is this a binary file?)"),))
    return parse_text(text, path, shown, default_type)


def parse_text(text: str, path: Path, shown: str, default_type: str = DEFAULT_TYPE) -> ParsedFile:
    """Parse card-file text (see the module docstring for the format)."""
    problems: list[Problem] = []
    lines = LINE_END_RE.split(text)
    defaults, start = _front_matter(lines, shown, problems)
    file_tags = defaults.get("tags", ())
    file_type = defaults.get("type", default_type)
    subdeck = defaults.get("subdeck")
    starts, fence_line = card_starts(lines, start)
    first = starts[0] if starts else len(lines)
    for index in range(start, first):
        line = lines[index]
        if line.strip() and not line.startswith("# ") and not COMMENT_RE.match(line.strip()):
            problems.append(Problem(shown, index + 1, "text before the first card; a card starts with a `## ` heading"))
            break
    if fence_line is not None:
        problems.append(Problem(shown, fence_line, "unclosed code fence"))
        return ParsedFile(path, (), tuple(problems))
    conflicts = [Problem(shown, index + 1, "git merge-conflict marker: the file was merged with conflicts; resolve "
                         "them (keep what belongs between `<<<<<<<` and `>>>>>>>`, remove the markers)")
                 for index in _outside_code(lines, start) if CONFLICT_RE.match(lines[index])] \
        if "<<<<<<<" in text or ">>>>>>>" in text else []
    if conflicts:
        return ParsedFile(path, (), tuple(problems + conflicts))
    notes = []
    for number, begin in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        note = _parse_card(lines[begin:end], begin + 1, path, shown, file_tags, file_type, subdeck, problems)
        if note:
            notes.append(note)
    return ParsedFile(path, tuple(notes), tuple(problems))


def card_starts(lines: list[str], start: int = 0) -> tuple[list[int], int | None]:
    """The indexes of the lines that start a card (a `## ` heading outside code fences), from `start`; and the
    line of a fence left open at the end of the file (None when every fence closes)."""
    starts = []
    fence: str | None = None
    fence_line = 0
    for index in range(start, len(lines)):
        line = lines[index]
        fence, opened = track_fence(line, fence)
        if opened:
            fence_line = index + 1
        if fence is None and not opened and line.startswith("## "):
            starts.append(index)
    return starts, (fence_line if fence is not None else None)


def _outside_code(lines: list[str], start: int) -> list[int]:
    """The indexes of the lines from `start` that are not inside a fenced code block (nor fence lines)."""
    inside = {index for index, _ in code_lines(lines[start:])}
    return [index for index in range(start, len(lines)) if index - start not in inside]


def split_lines(text: str) -> list[str]:
    """The lines of a card file as the parser counts them, each with its line end (for rewriting it)."""
    lines, start = [], 0
    for match in LINE_END_RE.finditer(text):
        lines.append(text[start:match.end()])
        start = match.end()
    return lines + [text[start:]] if start < len(text) else lines


def code_lines(lines: list[str]) -> list[tuple[int, bool]]:
    """For each line inside a fenced code block (fence lines included): (its index, whether it is a fence line)."""
    found = []
    fence: str | None = None
    for index, line in enumerate(lines):
        opened_by = fence
        fence, opened = track_fence(line, fence)
        if opened or opened_by is not None:
            found.append((index, opened or fence is None))
    return found


def track_fence(line: str, fence: str | None) -> tuple[str | None, bool]:
    """The code-fence rule of the code base: (open fence marker or None, whether this line opened a fence).

    A fence opens with 3+ backticks or tildes (indented at most 3 spaces) and closes with a line
    of at least as many of the same character and nothing else.
    """
    match = FENCE_RE.match(line)
    if fence is None:
        if match:
            return match.group(1), True
        return None, False
    if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
            and not line.strip()[len(match.group(1)):].strip():
        return None, False
    return fence, False


def _tags(value: Any) -> tuple[str, ...]:
    tags = value.split() if isinstance(value, str) else value
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Invalid("must be a list of strings or a space-separated string")
    bad = [f"invalid tag '{t}': tags cannot contain spaces or quotes" for t in tags if not valid_tag(t)]
    if bad:
        raise Invalid(*bad)
    return tuple(tags)


FRONT_MATTER_KEYS = {
    "subdeck": Key("the subdeck this file's cards go to", deck_name),
    "tags": Key("tags for every card of the file (a list or a space-separated string)", _tags, default=()),
    "type": Key("the note type of every card of the file (a folder name in templates/)", nonempty_string),
}


def front_matter_end(lines: list[str]) -> int | None:
    """The index of the line that closes a file's front matter (None: the file has none, or it is not closed)."""
    if not lines or lines[0].strip() != "---":
        return None
    return next((end for end in range(1, len(lines)) if lines[end].strip() in ("---", "...")), None)


def _front_matter(lines: list[str], shown: str, problems: list[Problem]) -> tuple[dict, int]:
    """The file's defaults from its front matter, and the index of its first line after it."""
    end = front_matter_end(lines)
    if end is None:
        if lines and lines[0].strip() == "---":
            problems.append(Problem(shown, 1, "front matter opened with `---` is never closed"))
            return {}, len(lines)
        return {}, 0
    data, found = load_yaml("\n".join(lines[1:end]), shown, first_line=2)
    problems += found
    if found or data is None:
        return {}, end + 1
    if not isinstance(data, dict):
        problems.append(Problem(shown, 2, "front matter must be a YAML mapping (keys: " + ", ".join(FRONT_MATTER_KEYS) + ")"))
        return {}, end + 1
    values, found = read_mapping(data, FRONT_MATTER_KEYS, shown, first_line=2, what="front matter key")
    problems += found
    return {key: value for key, value in values.items() if value is not None}, end + 1


def comment_values(text: str) -> dict[str, str]:
    """The keys and values of an id comment's text (between `<!--` and `-->`): the one reading of it (`ids` too)."""
    return _parse_comment(text, 0, "", [])


def comment_parts(text: str) -> list[str]:
    """The `key: value` parts of an id comment: split at `;` outside quoted tags; `guid:` runs to the end (an Anki
    GUID may hold `;`)."""
    parts, start, quoted, index = [], 0, False, 0
    if text.lstrip().startswith("guid:"):
        return [text]
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == ";":
            parts.append(text[start:index])
            start = index + 1
            if text[start:].lstrip().startswith("guid:"):
                break
        index += 1
    return parts + [text[start:]]


def _parse_comment(text: str, line: int, shown: str, problems: list[Problem]) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in comment_parts(text):
        if not part.strip():
            continue
        key, colon, value = part.partition(":")
        key = key.strip()
        if not colon:
            problems.append(Problem(shown, line, f"malformed id comment part '{part.strip()}': expected `key: value`"))
        elif key not in COMMENT_KEYS:
            problems.append(Problem(shown, line, f"unknown key '{key}' in id comment (valid keys: {', '.join(COMMENT_KEYS)})"))
        elif key in values:
            problems.append(Problem(shown, line, f"key '{key}' given twice in id comment"))
        else:
            values[key] = value.strip()
    return values


def _comment_tags(value: str, line: int, shown: str, problems: list[Problem]) -> list[str]:
    """The tags of an id comment: each as written, or quoted (JSON string syntax) when it holds what cannot be."""
    tags = []
    for token in value.split():
        if token.startswith('"'):
            try:
                tag = json.loads(token)
            except ValueError:
                tag = None
            if not isinstance(tag, str) or not valid_quoted_tag(tag):
                problems.append(Problem(shown, line, f"invalid tag {token}: a quoted tag is one JSON string, without "
                                        "spaces, control characters or empty `::` levels"))
                continue
        elif not valid_tag(token):
            problems.append(Problem(shown, line, f"invalid tag '{token}': tags cannot contain quotes or empty `::` "
                                    "levels"))
            continue
        else:
            tag = token
        tags.append(tag)
    return tags


def _parse_card(chunk: list[str], line_no: int, path: Path, shown: str, file_tags: tuple[str, ...],
                file_type: str, subdeck: str | None, problems: list[Problem]) -> SourceNote | None:
    heading = chunk[0][3:].strip()
    # The id comment must be the first non-blank line after the heading.
    index = 1
    while index < len(chunk) and not chunk[index].strip():
        index += 1
    comment = COMMENT_RE.match(chunk[index].strip()) if index < len(chunk) else None
    if not comment:
        problems.append(Problem(shown, line_no, "card has no id comment: run `cardsmith ids` (or add `<!-- id: some-slug -->` on the line after the heading)"))
        return None
    id_line = line_no + index
    meta = _parse_comment(comment.group(1), id_line, shown, problems)
    card_id = meta.get("id", "")
    if not card_id:
        problems.append(Problem(shown, id_line, "id comment has no 'id'"))
        return None
    if not ID_RE.fullmatch(card_id):
        problems.append(Problem(shown, id_line, f"invalid id '{card_id}': use lower-case letters, digits, '-' and '_' (at most 80)"))
        return None
    tags = list(file_tags)
    for tag in _comment_tags(meta.get("tags", ""), id_line, shown, problems):
        if tag not in tags:
            tags.append(tag)
    sections = _sections(heading, chunk[index + 1:], line_no, id_line + 1)
    if not sections[0].text.strip():
        problems.append(Problem(shown, line_no, "empty question"))
        return None
    size, raw = card_size(sections)
    if size > MAX_CARD_CHARS or raw > MAX_RAW_CHARS:
        problems.append(size_problem(shown, line_no, size, raw))
        return None
    # Which fields are empty, and whether that is allowed, depends on the note type: resolve.py decides.
    return SourceNote(card_id, path, shown, line_no, id_line, meta.get("type") or file_type, tuple(tags), subdeck,
                      meta.get("guid") or None, sections, tuple(meta.get("distinct", "").split()))


def card_size(sections: tuple[Section, ...]) -> tuple[int, int]:
    """A card's characters: outside fields in raw form, and in them."""
    size = raw = 0
    for number, section in enumerate(sections):
        text = (section.text if number < 2 else section.text.partition("\n")[2]).strip()
        if RAW_ATTRIBUTE in text and raw_html(text, number == 0) is not None:
            raw += len(text)
        else:
            size += len(text)
    return size, raw


def size_problem(shown: str, line: int, size: int, raw: int) -> Problem:
    """The card is over one of the limits (Markdown, or HTML in raw form)."""
    if size > MAX_CARD_CHARS:
        return Problem(shown, line, f"card is {size:,} characters long, over the limit of {MAX_CARD_CHARS:,}: "
                       "split it into several cards")
    return Problem(shown, line, f"card holds {raw:,} characters of HTML in raw form, over the limit of "
                   f"{MAX_RAW_CHARS:,}")


def _sections(heading: str, body: list[str], line_no: int, body_line: int) -> tuple[Section, ...]:
    """Split a card's body at the `---` of a long question (before any `### ` line) and at each top-level
    `### ` line; the first section is the heading with the lines of a long question."""
    marks: list[int] = []  # body indexes of the `### ` lines
    separator = None
    fence: str | None = None
    for offset, line in enumerate(body):
        fence, opened = track_fence(line, fence)
        if fence is not None or opened:
            continue
        if line.startswith(FIELD_HEADING) and line[len(FIELD_HEADING):].strip():
            marks.append(offset)
        elif line.strip() == SEPARATOR and separator is None and not marks:
            separator = offset
    question = "\n".join([heading] + (body[:separator] if separator is not None else []))
    after = separator + 1 if separator is not None else 0
    ends = marks + [len(body)]
    sections = [Section(None, question, line_no),
                Section(None, "\n".join(body[after:ends[0]]), body_line + after)]
    for mark, end in zip(marks, ends[1:]):
        sections.append(Section(body[mark][len(FIELD_HEADING):].strip(), "\n".join(body[mark:end]), body_line + mark))
    return tuple(sections)
