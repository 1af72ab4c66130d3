"""`cardsmith ids`: give every card that lacks an id one, derived from its question.

Only the missing id is written: every other byte of the file stays as it was, existing ids are
never rewritten, and each file is replaced atomically.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .parse import COMMENT_RE, FENCE_RE
from .pipeline import Project

ID_IN_COMMENT_RE = re.compile(r"(?:^|;)\s*id\s*:\s*([^;]*?)\s*(?:;|$)")
MAX_WORDS = 6


@dataclass(frozen=True)
class AddedId:
    shown_path: str
    line: int
    card_id: str

    def __str__(self) -> str:
        return f"{self.shown_path}:{self.line}: added id '{self.card_id}'"


def slug_for(question: str, taken: set[str]) -> str:
    """A readable slug from a question, unique among `taken` (which it joins)."""
    text = re.sub(r"\$[^$]*\$", " ", question)          # formulas make poor slugs
    text = re.sub(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", r"\1", text)
    words = re.findall(r"[a-z0-9]+", text.lower())
    base = "-".join(words[:MAX_WORDS])[:60].strip("-") or "card"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def add_missing_ids(project: Project) -> list[AddedId]:
    """Write an id under each card that has none, in every deck's card files."""
    added: list[AddedId] = []
    for deck in project.decks:
        files = project.deck_files(deck)
        texts = {path: path.read_bytes() for path in files}
        taken = set()
        for raw in texts.values():
            for match in re.finditer(rb"<!--(.*?)-->", raw):
                found = ID_IN_COMMENT_RE.search(match.group(1).decode("utf-8", "replace"))
                if found and found.group(1):
                    taken.add(found.group(1))
        for path, raw in texts.items():
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue  # reported by `check`/`build`; never rewrite a file we cannot read
            new_text, file_added = _add_ids(text, project.shown(path), taken)
            if file_added:
                tmp = path.with_name(f".{path.name}.ids-tmp")
                tmp.write_bytes(new_text.encode("utf-8"))
                os.replace(tmp, path)
                added += file_added
    return added


def _add_ids(text: str, shown: str, taken: set[str]) -> tuple[str, list[AddedId]]:
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if "\r\n" in text else "\n"
    added: list[AddedId] = []
    out: list[str] = []
    fence: str | None = None
    index = 0
    if lines and lines[0].strip() == "---":  # front matter: copy as is
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), len(lines) - 1)
        out += lines[: end + 1]
        index = end + 1
    while index < len(lines):
        line = lines[index]
        match = FENCE_RE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence[0] * len(fence)):
            fence = None
        out.append(line)
        index += 1
        if fence is not None or not line.startswith("## "):
            continue
        following = index
        while following < len(lines) and not lines[following].strip():
            following += 1
        comment = COMMENT_RE.match(lines[following].strip()) if following < len(lines) else None
        if comment and ID_IN_COMMENT_RE.search(comment.group(1)):
            continue
        slug = slug_for(line[3:].strip(), taken)
        if comment:
            old = lines[following]
            lines[following] = old.replace("<!--", f"<!-- id: {slug};", 1) if comment.group(1).strip() \
                else old.replace(old.strip(), f"<!-- id: {slug} -->", 1)
            added.append(AddedId(shown, len(out) + following - index + 1, slug))
        else:
            if not line.endswith(("\n", "\r")):
                out[-1] = line + newline
            out.append(f"<!-- id: {slug} -->" + newline)
            added.append(AddedId(shown, len(out), slug))
    return "".join(out), added
