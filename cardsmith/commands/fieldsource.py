"""Anki's HTML of one field -> the text to write for it in its card file: Markdown that renders to exactly that
HTML, else the HTML itself in raw form (rawform.py, the form `cardsmith import` keeps HTML in).

`candidates` gives the texts to try, the most readable first; the caller keeps the first that the renderer
turns into exactly Anki's HTML:

    patched    the card's own Markdown with Anki's edit applied where the edit maps onto it (a formula
               added in Anki written as `$…$`): the smallest change, in the author's own style
    converted  the whole field converted by htmlmd (the importer's converter)
    raw form   the HTML itself: a ```{=html} block (on the heading: `## <html> {=html}`)

Anki's names of the deck's media files (content-hashed by the build) become the paths of those files,
relative to the card file, which the build turns back into the same names.
"""

from __future__ import annotations

import html
import os
import re
from difflib import SequenceMatcher
from itertools import accumulate
from pathlib import Path
from typing import Callable, Iterator

from .. import mathtex
from ..render import EXTERNAL_RE, MEDIA_TAG_RE, SOUND_RE, media_source, with_source
from ..rawform import raw_text
from . import htmlmd

# HTML as tokens: a formula, a tag, an entity, or one character (what an edit in Anki adds or removes).
HTML_TOKEN_RE = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|<[^<>]*>|&#?\w+;|.", re.S)
# Markdown as tokens: an image or a link's target (markup that shows no text of its own) in one, then as above.
MARKDOWN_TOKEN_RE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|\]\([^)\n]*\)|<[^<>]*>|&#?\w+;|\\.|.", re.S)
ESCAPED = set("\\`*_$[]")  # characters an edit adds that Markdown would read as markup
MAX_PATCHED = 20_000  # characters of a field: the token diff grows with the square of its length
# The alignments' work (entries of difflib's index visited), after which patch gives up and the field is converted
# whole: about a second. On repetitive text (`ab ab …`) difflib's work grows with the cube of the length.
PATCH_WORK = 10_000_000


class _TooMuchWork(Exception):
    """The alignment used up its budget."""


class _BoundedMatcher(SequenceMatcher):
    """difflib's matcher (no junk heuristic), raising _TooMuchWork once its lookups exceed `budget[0]` (shared)."""

    def __init__(self, a: list, b: list, budget: list[int]):
        super().__init__(None, a, b, autojunk=False)
        self.budget = budget
        # The work of a longest-match search over a[alo:ahi]: the index entries of its tokens, by prefix sums.
        self.work = list(accumulate((len(self.b2j.get(token, ())) for token in a), initial=0))

    def find_longest_match(self, alo=0, ahi=None, blo=0, bhi=None):
        ahi = len(self.a) if ahi is None else ahi
        self.budget[0] -= self.work[ahi] - self.work[alo]
        if self.budget[0] < 0:
            raise _TooMuchWork
        return super().find_longest_match(alo, ahi, blo, bhi)


class MissingMedia(Exception):
    """Anki's HTML uses a media file that is not one of the deck's: no source text can name it."""


def candidates(target: str, written: str, old_html: str, fmt: str, heading: bool,
               paths: Callable[[str], str]) -> Iterator[str]:
    """Texts for a field whose HTML in Anki is `target`, most readable first. `written`: the field's text in the
    card now (its format `fmt`), which renders to `old_html`; `heading`: the card's first field (its first line
    is the `## ` heading); `paths`: HTML with the deck's media names as the paths of their files (with_paths)."""
    if fmt == "markdown":
        if written and len(old_html) + len(target) < MAX_PATCHED:
            patched = patch(written, old_html, target, paths)
            if patched is not None:
                yield patched
        converted = htmlmd.markdown_candidate(paths(target))  # the import's conversion: checked by the caller
        if converted is not None:
            yield converted
    else:
        yield paths(target)  # a field of format html is the HTML itself
    if "\r" not in target:  # a carriage return ends a line in a card file
        yield raw_text(paths(target), heading)


def with_paths(field_html: str, media: dict[str, Path], folder: Path, kept: Path | None = None) -> str:
    """The HTML with each of the deck's media names (`src` of an image, `[sound:]`) replaced by the path of its
    file relative to the card's `folder`, but a file of the deck's media folder (`kept`), which a card names as
    Anki does; raises MissingMedia for a local file the deck does not have."""
    def path_of(name: str) -> str | None:
        unescaped = html.unescape(name)
        if not unescaped or EXTERNAL_RE.match(unescaped):
            return None
        source = media.get(unescaped)
        if source is None:
            raise MissingMedia(unescaped)
        if kept is not None and source.name == unescaped and source.parent == kept.resolve():
            return None  # the build finds it by this name and leaves the name as it is
        return Path(os.path.relpath(source, folder)).as_posix()

    def image(tag: re.Match) -> str:
        found = media_source(tag.group(0))
        path = path_of(found[1]) if found else None
        if found is None or path is None:
            return tag.group(0)
        return with_source(tag.group(0), found[0], html.escape(path))

    def sound(match: re.Match) -> str:
        path = path_of(match.group(1))
        return match.group(0) if path is None else f"[sound:{path}]"

    return SOUND_RE.sub(sound, MEDIA_TAG_RE.sub(image, field_html))


def patch(written: str, old_html: str, new_html: str, paths: Callable[[str], str]) -> str | None:
    """The card's Markdown with the edit that turned `old_html` into `new_html` applied to it (the media of what
    it adds named by `paths`), or None when a change does not map onto the Markdown (then the field is converted
    whole)."""
    old, new = HTML_TOKEN_RE.findall(old_html), HTML_TOKEN_RE.findall(new_html)
    spans, keys = _markdown_tokens(written)
    budget = [PATCH_WORK]
    try:
        blocks = _BoundedMatcher([_key(t) for t in old], keys, budget).get_matching_blocks()
        opcodes = _BoundedMatcher(old, new, budget).get_opcodes()
    except _TooMuchWork:
        return None
    where: dict[int, int] = {}  # old HTML token -> Markdown token showing it
    for block in blocks:
        where.update((block.a + k, block.b + k) for k in range(block.size))
    edits = []
    for op, i1, i2, j1, j2 in opcodes:
        if op == "equal":
            continue
        if i1 < i2:
            if i1 not in where or i2 - 1 not in where or where[i1] > where[i2 - 1]:
                return None
            start, end = spans[where[i1]][0], spans[where[i2 - 1]][1]
        elif i1 in where:
            start = end = spans[where[i1]][0]
        elif i1 - 1 in where:
            start = end = spans[where[i1 - 1]][1]
        else:
            return None
        edits.append((start, end, "".join(_markdown_of(token, paths) for token in new[j1:j2])))
    if not edits:
        return None
    text = written
    for start, end, replacement in sorted(edits, reverse=True):
        if end > start and any(s < end and start < e for s, e, _ in edits if (s, e) != (start, end)):
            return None  # two edits of one stretch of Markdown
        text = text[:start] + replacement + text[end:]
    return text.strip()


def _markdown_tokens(text: str) -> tuple[list[tuple[int, int]], list[object]]:
    """The Markdown's tokens (a formula, a tag, an entity, an escape, a character): their spans, and keys that
    equal the keys of the HTML tokens they render to."""
    formulas, _ = mathtex.scan(text)
    spans: list[tuple[int, int]] = []
    keys: list[object] = []
    at = 0
    for formula in formulas + [None]:
        stop = formula.start if formula else len(text)
        for match in MARKDOWN_TOKEN_RE.finditer(text, at, stop):
            token = match.group(0)
            spans.append(match.span())
            if token.startswith(("![", "](")):
                keys.append(("markup", len(keys)))  # equal to no HTML token
            else:
                keys.append(token[1] if token.startswith("\\") and len(token) == 2 else _key(token))
        if formula:
            spans.append((formula.start, formula.end))
            keys.append(("math", " ".join(formula.tex.split())))
            at = formula.end
    return spans, keys


def _key(token: str) -> object:
    """What an HTML token shows: a formula's TeX, a tag, an entity's character(s), a character."""
    if token.startswith(("\\(", "\\[")) and len(token) >= 4:
        return "math", " ".join(html.unescape(token[2:-2]).split())
    if token.startswith("<"):
        return "tag", token.lower()
    return html.unescape(token) if token.startswith("&") else token


def _markdown_of(token: str, paths: Callable[[str], str]) -> str:
    """An HTML token as Markdown that renders to it: a formula as `$…$`, a character escaped when Markdown would
    read it as markup; tags (their media as paths) and entities as they are (Markdown keeps inline HTML)."""
    if token.startswith(("\\(", "\\[")) and len(token) >= 4:
        tex = html.unescape(token[2:-2])
        return f"$${tex}$$" if token[1] == "[" else f"${tex}$"
    if token.startswith("<"):
        return paths(token)
    return "\\" + token if token in ESCAPED else token
