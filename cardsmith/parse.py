"""Card files -> SourceCards.

A card starts at a `## ` heading (the question), followed on the next line by an id comment
`<!-- id: slug; tags: a b; type: cloze -->`. The body up to the next `## ` is the answer; a line
holding only `---` in the body ends extra question lines (code, a formula, an image).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem
from .yamlfile import line_of, load_yaml

FRONT_MATTER_KEYS = {
    "subdeck": "the subdeck this file's cards go to",
    "tags": "tags for every card of the file (a list or a space-separated string)",
    "type": "the note type of every card of the file (a folder name in templates/)",
}
COMMENT_KEYS = ("id", "tags", "type", "guid")
ID_RE = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,78}[a-z0-9])?")
TAG_RE = re.compile(r"[^\s\"]+")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
COMMENT_RE = re.compile(r"^<!--(.*)-->\s*$")
# A line ends at `\n`, `\r\n` or `\r`, and nowhere else (str.splitlines also splits at a form feed or U+2028).
LINE_END_RE = re.compile(r"\r\n|\r|\n")
SEPARATOR = "---"
# Python-Markdown's time grows with the square of a card's size in places (it rebuilds the text at
# every inline match, and splits a block one heading at a time): at this size its worst case is about
# 2 s, at 100 KB minutes. The longest card of the shipped deck has 1,300 characters.
MAX_CARD_CHARS = 20_000


@dataclass(frozen=True)
class SourceCard:
    """One card as written in a Markdown file, before rendering."""

    card_id: str
    path: Path            # the card file
    shown_path: str       # the path as printed in messages
    line: int             # line of the `## ` heading
    question: str         # Markdown
    answer: str           # Markdown
    answer_line: int      # line where the answer starts
    tags: tuple[str, ...]
    note_type: str
    subdeck: str | None
    guid: str | None = None  # an explicit Anki GUID (for decks imported from Anki)
    id_line: int = 0


@dataclass
class CardFile:
    """A parsed card file: its cards and the problems found in it."""

    path: Path
    cards: list[SourceCard] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def valid_tag(tag: str) -> bool:
    """Anki tags: no spaces or quotes; `::` separates non-empty levels."""
    return bool(TAG_RE.fullmatch(tag)) and all(tag.split("::"))


def parse_file(path: Path, shown: str, default_type: str = "basic") -> CardFile:
    """Read and parse one card file; problems are collected, never raised."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return CardFile(path, problems=[Problem(shown, 0, f"cannot read file: {exc.strerror}")])
    return parse_bytes(raw, path, shown, default_type)


def parse_bytes(raw: bytes, path: Path, shown: str, default_type: str = "basic") -> CardFile:
    """Parse a card file's bytes: decode, refuse binary files, then parse_text."""
    result = CardFile(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        result.problems.append(Problem(shown, line, "not valid UTF-8 text (is this a binary file?)"))
        return result
    if "\x00" in text:
        result.problems.append(Problem(shown, text[: text.index("\x00")].count("\n") + 1,
                                       "file contains a NUL byte (is this a binary file?)"))
        return result
    return parse_text(text, path, shown, default_type)


def parse_text(text: str, path: Path, shown: str, default_type: str = "basic") -> CardFile:
    """Parse card-file text (see the module docstring for the format)."""
    result = CardFile(path)
    lines = LINE_END_RE.split(text)
    defaults, start = _front_matter(lines, shown, result.problems)
    file_tags = defaults.get("tags", ())
    file_type = defaults.get("type", default_type)
    subdeck = defaults.get("subdeck")

    # Split into card chunks at `## ` headings outside code fences.
    chunks: list[tuple[int, list[str]]] = []
    fence: str | None = None
    fence_line = 0
    for index in range(start, len(lines)):
        line = lines[index]
        fence, opened = track_fence(line, fence)
        if opened:
            fence_line = index + 1
        if fence is None and not opened and line.startswith("## "):
            chunks.append((index + 1, [line]))
        elif chunks:
            chunks[-1][1].append(line)
        elif line.strip() and not line.startswith("# ") and not COMMENT_RE.match(line.strip()):
            result.problems.append(Problem(shown, index + 1, "text before the first card; a card starts with a `## ` heading"))
            break
    if fence is not None:
        result.problems.append(Problem(shown, fence_line, "unclosed code fence"))
        return result

    for line_no, chunk in chunks:
        card = _parse_card(chunk, line_no, path, shown, file_tags, file_type, subdeck, result.problems)
        if card:
            result.cards.append(card)
    return result


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


def _front_matter(lines: list[str], shown: str, problems: list[Problem]) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        problems.append(Problem(shown, 1, "front matter opened with `---` is never closed"))
        return {}, len(lines)
    data, found = load_yaml("\n".join(lines[1:end]), shown, first_line=2)
    problems += found
    if found or data is None:
        return {}, end + 1
    if not isinstance(data, dict):
        problems.append(Problem(shown, 2, "front matter must be a YAML mapping (keys: " + ", ".join(FRONT_MATTER_KEYS) + ")"))
        return {}, end + 1
    defaults: dict = {}
    for key, value in data.items():
        line = line_of(data, str(key), first_line=2)
        if key not in FRONT_MATTER_KEYS:
            problems.append(Problem(shown, line, f"unknown front matter key '{key}' (valid keys: {', '.join(FRONT_MATTER_KEYS)})"))
        elif key == "tags":
            tags = value.split() if isinstance(value, str) else value
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                problems.append(Problem(shown, line, "'tags' must be a list of strings or a space-separated string"))
                continue
            bad = [t for t in tags if not valid_tag(t)]
            for tag in bad:
                problems.append(Problem(shown, line, f"invalid tag '{tag}': tags cannot contain spaces or quotes"))
            defaults["tags"] = tuple(t for t in tags if valid_tag(t))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem(shown, line, f"'{key}' must be a non-empty string"))
        elif key == "subdeck" and any(not part.strip() for part in value.split("::")):
            problems.append(Problem(shown, line, "'subdeck' must not have empty `::` parts"))
        else:
            defaults[key] = value.strip()
    return defaults, end + 1


def _parse_comment(text: str, line: int, shown: str, problems: list[Problem]) -> dict[str, str]:
    values: dict[str, str] = {}
    # An Anki GUID may hold ';': `guid:` runs to the end of the comment.
    guid = re.search(r"(?:^|;)\s*guid:(.*)$", text)
    if guid:
        values["guid"] = guid.group(1).strip()
        text = text[:guid.start()]
    for part in text.split(";"):
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


def _parse_card(chunk: list[str], line_no: int, path: Path, shown: str, file_tags: tuple[str, ...],
                file_type: str, subdeck: str | None, problems: list[Problem]) -> SourceCard | None:
    heading = chunk[0][3:].strip()
    # The id comment must be the first non-blank line after the heading.
    index = 1
    while index < len(chunk) and not chunk[index].strip():
        index += 1
    comment = COMMENT_RE.match(chunk[index].strip()) if index < len(chunk) else None
    if not comment:
        problems.append(Problem(shown, line_no, "card has no id comment: add `<!-- id: some-slug -->` on the line after the heading"))
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
    for tag in meta.get("tags", "").split():
        if not valid_tag(tag):
            problems.append(Problem(shown, id_line, f"invalid tag '{tag}': tags cannot contain quotes or empty `::` levels"))
        elif tag not in tags:
            tags.append(tag)

    body = chunk[index + 1:]
    body_start = id_line + 1
    question_lines = [heading]
    answer_lines = body
    answer_line = body_start
    fence: str | None = None
    for offset, line in enumerate(body):
        fence, opened = track_fence(line, fence)
        if fence is None and not opened and line.strip() == SEPARATOR:
            question_lines += body[:offset]
            answer_lines = body[offset + 1:]
            answer_line = body_start + offset + 1
            break
    question = "\n".join(question_lines).strip()
    answer = "\n".join(answer_lines).strip()
    note_type = meta.get("type") or file_type
    if not question:
        problems.append(Problem(shown, line_no, "empty question"))
        return None
    if len(question) + len(answer) > MAX_CARD_CHARS:
        problems.append(Problem(shown, line_no, f"card is {len(question) + len(answer):,} characters long, over the "
                                f"limit of {MAX_CARD_CHARS:,}: split it into several cards"))
        return None
    # Whether an empty answer is allowed depends on the note type's kind: Project.prepare decides.
    # Skip leading blank lines so answer_line points at the first line of the answer (if any).
    while answer and answer_line - body_start < len(body) and not body[answer_line - body_start].strip():
        answer_line += 1
    return SourceCard(card_id, path, shown, line_no, question, answer, answer_line, tuple(tags),
                      note_type, subdeck, meta.get("guid") or None, id_line)
