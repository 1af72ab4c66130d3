"""SourceCard -> RenderedCard: Markdown to HTML fields, math kept for Anki's MathJax,
code highlighted at build time, local images packaged as content-hashed media."""

from __future__ import annotations

import hashlib
import html
import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import markdown

from . import mathtex
from .boundary import Boundary, outside
from .errors import Problem, collapse_repeats
from .parse import SourceCard

CLOZE_RE = re.compile(r"\{\{c(\d+)::")
IMG_SRC_RE = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.I)
EXTERNAL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)

MARKDOWN_EXTENSIONS = [
    "tables", "sane_lists", "attr_list",
    "pymdownx.superfences", "pymdownx.highlight", "pymdownx.arithmatex",
    "cardsmith.codelines",  # one element per code line: code wraps on a phone (templates/base.css)
    "cardsmith.render:BoundedLinks",  # below: rendering stays linear in the card's size
]
MARKDOWN_CONFIG = {
    "pymdownx.arithmatex": {"generic": True, "smart_dollar": True},
    "pymdownx.highlight": {"css_class": "highlight", "guess_lang": False, "use_pygments": True},
}
LINK_PATTERNS = ("reference", "link", "image_link", "image_reference", "short_reference", "short_image_ref")
BRACKET_RE = re.compile(r"[\[\]]")
MAX_LINK_BRACKETS = 16  # brackets inside a link's text (`[a [b] c]` has two)
MAX_LINK_LENGTH = 1000  # characters of a link's `[text]`, and of its `(destination "title")`


class BoundedLinks(markdown.Extension):
    """Links whose text or target is absurdly long stay text, so that finding links is linear.

    Python-Markdown's link patterns scan from every `[` (and every `](`) to the end of the text for
    the closing bracket, character by character in Python: 8,000 `[` took 8.7 s, and twice as many
    four times as long. Here both scans stop after MAX_LINK_LENGTH characters, and the text's
    brackets are found by a regular expression, at most MAX_LINK_BRACKETS of them.
    """

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        for name in LINK_PATTERNS:
            processor = md.inlinePatterns[name]
            get_link = processor.getLink
            # Instance attributes: the six link classes all call self.getText and self.getLink.
            processor.getText = _link_text
            processor.getLink = lambda data, index, get_link=get_link: get_link(data[:index + MAX_LINK_LENGTH], index)


def _link_text(data: str, index: int) -> tuple[str, int, bool]:
    """LinkInlineProcessor.getText: (the text up to the `]` that closes the `[` before `index`, its end, found)."""
    depth = 1
    for count, match in enumerate(BRACKET_RE.finditer(data, index, index + MAX_LINK_LENGTH)):
        if count == MAX_LINK_BRACKETS:
            break
        depth += 1 if match.group() == "[" else -1
        if depth == 0:
            return data[index:match.start()], match.end(), True
    return "", index, False


@dataclass(frozen=True)
class Media:
    """A local file packaged into the deck under a content-hashed name."""

    name: str
    source: Path


@dataclass(frozen=True)
class RenderedCard:
    """A card with HTML fields, ready to become an Anki note."""

    source: SourceCard
    fields: tuple[str, str]  # (question HTML, answer HTML)
    media: tuple[Media, ...]

    @property
    def content_hash(self) -> str:
        """The ledger's hash of what reaches Anki."""
        return content_hash(self.source.note_type, self.fields, self.source.tags)

    @property
    def card_id(self) -> str:
        return self.source.card_id


def content_hash(note_type: str, fields: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """The hash the ledger keeps per card: it changes exactly when what Anki receives changes."""
    text = json.dumps([note_type, fields, sorted(tags)], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Renderer:
    """Renders the cards of one project with one configured Markdown instance (reused: building it is slow)."""

    def __init__(self, boundary: Boundary) -> None:
        self.boundary = boundary  # images outside it are refused
        self._markdown: markdown.Markdown | None = None
        self._media_names: dict[Path, str] = {}

    @property
    def _md(self) -> markdown.Markdown:
        """Built on first use: a build that finds every card in the cache never needs it."""
        if self._markdown is None:
            self._markdown = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG)
        return self._markdown

    def render(self, card: SourceCard) -> tuple[RenderedCard | None, list[Problem]]:
        """Render one card; return it (or None) and the problems found."""
        problems: list[Problem] = []
        media: list[Media] = []
        parts = []
        for text, first_line in ((card.question, card.line), (card.answer, card.answer_line)):
            formulas, issues = mathtex.scan(text)
            for issue in issues:
                if issue.severity == "error":
                    problems.append(Problem(card.shown_path, first_line + issue.offset, issue.message))
            for formula in formulas:
                if CLOZE_RE.search(formula.tex):
                    problems.append(Problem(card.shown_path, first_line + formula.offset,
                                            f"cloze deletion inside math `{mathtex.short(formula.tex)}`: Anki cannot "
                                            "hide part of a formula; put the whole formula inside the deletion: "
                                            "{{c1::$…$}}"))
            try:
                html_text = mathtex.finish_math(self._md.reset().convert(mathtex.separate_display_math(text)))
            except RecursionError:  # Python-Markdown recurses once per level of nested lists
                problems.append(Problem(card.shown_path, first_line, "nested too deeply to render "
                                        "(lists or quotes inside each other hundreds of levels deep)"))
                continue
            html_text = self._package_images(html_text, text, first_line, card, media, problems)
            parts.append(html_text)
        if problems:
            return None, collapse_repeats(problems)
        unique = tuple(sorted(set(media), key=lambda m: m.name))
        return RenderedCard(card, (parts[0], parts[1]), unique), []

    def _package_images(self, html_text: str, source: str, first_line: int, card: SourceCard,
                        media: list[Media], problems: list[Problem]) -> str:
        def replace(match: re.Match) -> str:
            src = html.unescape(match.group(2))
            if EXTERNAL_RE.match(src) or not src:
                return match.group(0)
            path = card.path.parent / urllib.parse.unquote(src)
            name = self.media_name(path)
            if name is None:
                line = first_line + _line_offset(source, src)
                # Outside the project, whether the file exists is none of the card's business.
                message = f"image not found: {src}" if self.boundary.contains(path) else outside("image", src)
                problems.append(Problem(card.shown_path, line, message))
                return match.group(0)
            media.append(Media(name, path.resolve()))
            return match.group(1) + html.escape(name) + match.group(3)

        return IMG_SRC_RE.sub(replace, html_text)

    def media_name(self, path: Path) -> str | None:
        """`<stem>-<hash>.<ext>`: two versions of an image never share a name in Anki.

        None when it is not a file inside the project: a file outside is never packaged (nor
        reused from a cached card that names it).
        """
        if not (self.boundary.contains(path) and path.is_file()):
            return None
        name = self._media_names.get(path)
        if name is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            stem = re.sub(r"[^A-Za-z0-9-]+", "-", path.stem).strip("-") or "image"
            name = f"{stem}-{digest}{path.suffix.lower()}"
            self._media_names[path] = name
        return name


def deletion_problems(question_html: str, shown: str, line: int) -> list[Problem]:
    """What is wrong with the deletions of a cloze note's question (each deletion makes one card)."""
    numbers = CLOZE_RE.findall(question_html)
    if not numbers:
        return [Problem(shown, line, "cloze card has no deletion: mark the hidden part as {{c1::...}}")]
    if any(int(n) == 0 for n in numbers):
        return [Problem(shown, line, "cloze numbers start at c1: {{c0::…}} makes no card")]
    return []


def _line_offset(source: str, needle: str) -> int:
    index = source.find(needle)
    return source.count("\n", 0, index) if index >= 0 else 0
