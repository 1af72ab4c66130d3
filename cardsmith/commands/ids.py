"""`cardsmith ids`: give every card that lacks an id one, derived from its question.

Only the missing id is written: every other byte of the file stays as it was, existing ids are
never rewritten, lines and code fences are those the parser sees, and each file is replaced
atomically (through a symlink, its target; with its mode). A file saved by someone else while
`ids` ran is never overwritten: the run then writes nothing and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import mathtex
from ..cardgen import reveal
from ..files import Rewrite, read_limited, replace_files
from ..parse import COMMENT_RE, card_starts, comment_values, front_matter_end, slug, split_lines, unique
from ..pipeline import Project

EMPTY_ID_RE = re.compile(r"(?:^|;)\s*id\s*:(\s*)(?=;|$)")  # an `id:` part with no value
MAX_WORDS = 6
MAX_CHARS = 60
MARKUP_RE = re.compile(r"<[^>]+>|!\[[^\]]*\]\([^)]*\)|&[#\w]+;|\\")  # tags, images, entities, escapes
BOM = "\ufeff"


@dataclass(frozen=True)
class AddedId:
    shown_path: str
    line: int
    card_id: str

    def __str__(self) -> str:
        return f"{self.shown_path}:{self.line}: added id '{self.card_id}'"


def slug_for(question: str, taken: set[str]) -> str:
    """A readable card id from a question (Markdown): its first words, without formulas (they make poor ids),
    markup, or a deletion's hint; unique among `taken` (which it joins)."""
    text = reveal(question, lambda deletion: deletion.answer, mathtex.mask_math(question))
    text = mathtex.mask_math(text)
    text = MARKUP_RE.sub(" ", text)
    return unique(slug(text, MAX_CHARS, MAX_WORDS) or "card", taken)


@dataclass(frozen=True)
class _Rewrite(Rewrite):
    """A card file's new text, with the ids added to it."""

    added: list[AddedId] = field(default_factory=list)


def add_missing_ids(project: Project) -> list[AddedId]:
    """Write an id under each card that has none, in every deck's card files."""
    rewrites: dict[Path, _Rewrite] = {}
    for deck in project.decks:
        texts = {path: read_limited(path) for path in project.deck_files(deck)}
        taken = set()
        for raw in texts.values():
            for match in re.finditer(rb"<!--(.*?)-->", raw):
                found = comment_values(match.group(1).decode("utf-8", "replace")).get("id")
                if found:
                    taken.add(found)
        for path, raw in texts.items():
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue  # reported by `check`/`build`; never rewrite a file we cannot read
            new_text, added = _add_ids(text, project.shown(path), taken)
            if added and path.resolve() not in rewrites:
                rewrites[path.resolve()] = _Rewrite(path, project.shown(path), raw, new_text.encode("utf-8"), added)
    replace_files(list(rewrites.values()), "cardsmith ids")
    return [item for rewrite in rewrites.values() for item in rewrite.added]


def _add_ids(text: str, shown: str, taken: set[str]) -> tuple[str, list[AddedId]]:
    """The file's text with an id comment under every card heading that has none (the parser finds the cards)."""
    bom = BOM if text.startswith(BOM) else ""  # the parser reads the file as utf-8-sig
    lines = split_lines(text[len(bom):])
    plain = [line.rstrip("\r\n") for line in lines]
    newline = "\r\n" if "\r\n" in text else "\n"
    end = front_matter_end(plain)
    starts, _ = card_starts(plain, 0 if end is None else end + 1)
    added: list[AddedId] = []
    inserted = 0  # lines added above the current card
    for index in starts:
        following = index + 1
        while following < len(plain) and not plain[following].strip():
            following += 1
        comment = COMMENT_RE.match(plain[following].strip()) if following < len(plain) else None
        values = comment_values(comment.group(1)) if comment else {}
        if values.get("id"):
            continue
        slug = slug_for(plain[index][3:].strip(), taken)
        at = index + inserted
        if comment:
            old = lines[following + inserted]
            body = old.index("<!--") + 4
            empty = EMPTY_ID_RE.search(comment.group(1)) if "id" in values else None  # `id:` without a value: fill it
            if empty:
                new = f"{old[:body + empty.start(1)]} {slug}{old[body + empty.end(1):]}"
            elif comment.group(1).strip():
                new = old.replace("<!--", f"<!-- id: {slug};", 1)
            else:
                new = old.replace(old.strip(), f"<!-- id: {slug} -->", 1)
            lines[following + inserted] = new
            added.append(AddedId(shown, following + inserted + 1, slug))
        else:
            if not lines[at].endswith(("\n", "\r")):
                lines[at] += newline
            lines.insert(at + 1, f"<!-- id: {slug} -->" + newline)
            inserted += 1
            added.append(AddedId(shown, at + 2, slug))
    return bom + "".join(lines), added
