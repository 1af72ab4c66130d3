"""ResolvedNote -> Rendered (stage 4): each field's Markdown to HTML (or its HTML as written, for a field of
format `html` or in raw form), math kept for Anki's MathJax, Anki's LaTeX kept for Anki, code highlighted at
build time, local images and sounds packaged as content-hashed media (a file of the deck's media folder
under its own name: a reference that names it already is left exactly as written)."""

from __future__ import annotations

import html
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

import markdown
from markdown import preprocessors
from markdown.htmlparser import HTMLExtractor

from . import mathtex
from .boundary import Boundary, outside
from .cardgen import CLOZE_OPEN_RE
from .errors import Problem, collapse_repeats
from .config import DeckConfig
from .files import file_digest, utf8_name
from .model import DeckMedia, FieldText, Media, Rendered, ResolvedNote

# The tags whose `src` (or `data`) Anki counts as a media file (its media check and importer: rslib's
# HTML_MEDIA_TAGS), and what a message calls each one's file.
MEDIA_TAGS = {"img": "image", "audio": "audio file", "video": "video file", "source": "media file",
              "object": "media file"}
_TAG = "(?:" + "|".join(MEDIA_TAGS) + r")\b"
# Such a tag (attribute values may hold `>` and `<`, as in a browser): the one rule for finding a card's media
# files. Nothing in it starts another such tag: a tag never closed ends its search at the next one, so finding
# them is linear in the field's size (a field of 20,000 `<img ` took a second, 200,000 minutes).
MEDIA_TAG_RE = re.compile(rf"""<{_TAG}(?:[^<>"']|"(?:[^<"]|<(?!{_TAG}))*"|'(?:[^<']|<(?!{_TAG}))*')*>""", re.I)
# As a browser reads them: an attribute follows spaces, a `/`, or (no space) a quoted value.
ATTRIBUTE_RE = re.compile(r"""([\s/]+|(?<=["']))([^\s"'>/=]+)(?:(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# Anki plays the file wherever the field says this (a name is at most 1,000 characters: linear, as above).
SOUND_RE = re.compile(r"\[sound:([^\]]{1,1000})\]")
EXTERNAL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)

MARKDOWN_EXTENSIONS = [
    "tables", "sane_lists", "attr_list",
    "pymdownx.superfences", "pymdownx.highlight", "pymdownx.arithmatex",
    "cardsmith.codelines",  # one element per code line: code wraps on a phone (templates/base.css)
    "cardsmith.render:BoundedLinks",  # below: rendering stays linear in the card's size
    "cardsmith.render:BoundedTags",  # below: likewise for raw HTML
    "cardsmith.render:ReusedHighlighting",  # below: one Pygments formatter and lexer, not one per code block
]
MARKDOWN_CONFIG = {
    "pymdownx.arithmatex": {"generic": True, "smart_dollar": True},
    "pymdownx.highlight": {"css_class": "highlight", "guess_lang": False, "use_pygments": True},
}
LINK_PATTERNS = ("reference", "link", "image_link", "image_reference", "short_reference", "short_image_ref")
BRACKET_RE = re.compile(r"[\[\]]")
MAX_LINK_BRACKETS = 16  # brackets inside a link's text (`[a [b] c]` has two)
MAX_LINK_LENGTH = 1000  # characters of a link's `[text]`, and of its `(destination "title")`
MAX_TAG_LENGTH = 1000  # characters of a raw HTML start tag `<name attributes>`


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


class BoundedTags(markdown.Extension):
    """An HTML block's start tag is looked for within its first MAX_TAG_LENGTH characters (a longer one stays a tag,
    inside a paragraph: Python-Markdown's inline HTML pattern, which is linear, takes it).

    Python-Markdown's HTML block parser (html.parser's check_for_whole_start_tag) matches a start tag from
    each `<` of one that is never closed to the end of the text (`<p <p <p …`: every `<p` after the first
    is an attribute name): 19,900 characters of `<p ` took 4.7 s, and twice as many four times as long.
    """

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.register(_BoundedHtmlBlock(md), "html_block", 20)


class _BoundedHtmlBlock(preprocessors.HtmlBlockPreprocessor):
    """Python-Markdown's HTML block preprocessor, with the bounded extractor."""

    def run(self, lines: list[str]) -> list[str]:
        parser = _BoundedExtractor(self.md)
        parser.feed("\n".join(lines))
        parser.close()
        return "".join(parser.cleandoc).split("\n")


class _BoundedExtractor(HTMLExtractor):
    """Python-Markdown's HTML extractor, its start tags bounded."""

    def check_for_whole_start_tag(self, i: int) -> int:
        """html.parser's answer for the tag at `i` as if the text ended MAX_TAG_LENGTH characters after it."""
        rawdata = self.rawdata
        if len(rawdata) - i <= MAX_TAG_LENGTH:
            return super().check_for_whole_start_tag(i)
        self.rawdata = rawdata[i:i + MAX_TAG_LENGTH]
        try:
            end = super().check_for_whole_start_tag(0)
        finally:
            self.rawdata = rawdata
        return end + i if end >= 0 else end


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


class ReusedHighlighting(markdown.Extension):
    """One Pygments formatter per set of options and one lexer per language, kept for the whole run.

    pymdownx.highlight builds both anew for every code block; building the formatter alone costs a third
    as much as highlighting a short block (bench/RESULTS.md). Both are used read-only by Pygments, so
    the highlighted HTML is the same (tests/test_cache.py compares builds byte for byte).
    """

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        from pymdownx import highlight

        if isinstance(highlight.BlockHtmlFormatter, _Reused):
            return  # done for this process already
        highlight.BlockHtmlFormatter = _Reused(highlight.BlockHtmlFormatter)
        highlight.InlineHtmlFormatter = _Reused(highlight.InlineHtmlFormatter)
        get_lexer = highlight.Highlight.get_lexer
        lexers: dict[tuple, Any] = {}

        def reused_lexer(self: Any, src: str, language: str, inline: bool, stripnl: bool) -> Any:
            if self.guess_lang:  # a guess depends on the code: not reused
                return get_lexer(self, src, language, inline, stripnl)
            key = (language, inline, stripnl, self.default_lang, repr(self.extend_pygments_lang))
            if key not in lexers:
                lexers[key] = get_lexer(self, src, language, inline, stripnl)
            return lexers[key]

        highlight.Highlight.get_lexer = reused_lexer


class _Reused:
    """A formatter class whose instances are kept by their options."""

    def __init__(self, cls: type):
        self.cls = cls
        self.made: dict[tuple, Any] = {}

    def __call__(self, **options: Any) -> Any:
        key = tuple(sorted((name, tuple(value) if isinstance(value, list) else value)
                           for name, value in options.items()))
        formatter = self.made.get(key)
        if formatter is None:
            formatter = self.made[key] = self.cls(**options)
        return formatter


class Renderer:
    """Renders the notes of one project with one configured Markdown instance (reused: building it is slow)."""

    def __init__(self, boundary: Boundary) -> None:
        self.boundary = boundary  # images and sounds outside it are refused
        self._markdown: markdown.Markdown | None = None
        self._digests: dict[Path, str] = {}

    @property
    def _md(self) -> markdown.Markdown:
        """Built on first use: a build that finds every note in the cache never needs it."""
        if self._markdown is None:
            self._markdown = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG)
        return self._markdown

    def render(self, note: ResolvedNote) -> tuple[Rendered | None, list[Problem]]:
        """Render one note's fields; return them (or None) and the problems found."""
        problems: list[Problem] = []
        media: list[Media] = []
        parts = []
        folder, shown = note.path.parent, note.shown_path
        for field in note.fields:
            if not field.text:
                parts.append("")
                continue
            if field.format != "markdown":
                html_text = field.text
            else:
                html_text = self._markdown_field(field, shown, problems)
                if html_text is None:
                    continue
            parts.append(self._package_media(html_text, field, folder, shown, media, problems, note.deck_media))
        problems = collapse_repeats(problems)
        if any(p.severity == "error" for p in problems):
            return None, problems  # (a notice, like a warning, leaves the note rendered)
        return Rendered(tuple(parts), tuple(sorted(set(media), key=lambda m: m.name))), problems

    def _markdown_field(self, field: FieldText, shown: str, problems: list[Problem]) -> str | None:
        """A Markdown field's HTML, or None (with the problems) when its math is malformed or it nests too deep."""
        text = field.text
        formulas, issues = mathtex.scan(text)
        for issue in issues:
            if issue.severity == "error":
                problems.append(Problem(shown, field.line_of(issue.offset), issue.message))
        for formula in formulas:
            if CLOZE_OPEN_RE.search(formula.tex):
                problems.append(Problem(shown, field.line_of(formula.offset),
                                        f"cloze deletion inside math `{mathtex.short(formula.tex)}`: Anki cannot "
                                        "hide part of a formula; put the whole formula inside the deletion: "
                                        "{{c1::$…$}}"))
        protected, latex = mathtex.protect_latex(text)
        try:
            html_text = self._md.reset().convert(mathtex.separate_display_math(protected))
        except RecursionError:  # Python-Markdown recurses once per level of nested lists
            problems.append(Problem(shown, field.line, "nested too deeply to render "
                                    "(lists or quotes inside each other hundreds of levels deep)"))
            return None
        return mathtex.restore_latex(mathtex.finish_math(html_text), latex)

    def _package_media(self, html_text: str, field: FieldText, folder: Path, shown: str, media: list[Media],
                       problems: list[Problem], note_media: DeckMedia | None = None) -> str:
        """The field with each local image and sound renamed to its media name (a missing one is a problem); a
        reference that names its file already (one of the deck's media folder) stays exactly as written."""
        deck_media = note_media

        def packaged(written: str, what: str) -> str | None:
            src = html.unescape(written)
            if EXTERNAL_RE.match(src) or not src:
                return None
            relative = urllib.parse.unquote(src)
            media_folder = deck_media.folder if deck_media is not None else None
            path = local_file(relative, folder, media_folder)
            line = field.line_of(_line_offset(field.text, written if written in field.text else src))
            if path == folder / relative and deck_media is not None and relative in deck_media.missing:
                # Not in the package it came from: a file that name finds beside the cards (a card file, the media
                # folder's own `media/x.png`) is not what Anki has, and packaging it would rewrite the field.
                problems.append(Problem(shown, line, f"{what} not found: {src} (the package the deck was imported "
                                        "from lacked it too: missing_media in the deck file)", "notice"))
                return None
            kept = media_folder is not None and os.path.normpath(path.parent) == os.path.normpath(media_folder)
            name = (path.name if self.digest(path) else None) if kept else self.media_name(path)
            if name is None:
                # Outside the project, whether the file exists is none of the card's business.
                message = f"{what} not found: {src}" if self.boundary.contains(path) else outside(what, src)
                problems.append(Problem(shown, line, message))
                return None
            media.append(Media(name, path.resolve(), self.digest(path) if kept else ""))
            return None if name == relative else html.escape(name)

        def media_tag(tag: re.Match) -> str:
            source = media_source(tag.group(0))
            name = packaged(source[1], MEDIA_TAGS[tag_name(tag.group(0))]) if source else None
            return tag.group(0) if name is None else with_source(tag.group(0), source[0], name)  # type: ignore[index]

        def sound(match: re.Match) -> str:
            name = packaged(match.group(1), "sound")
            return match.group(0) if name is None else f"[sound:{name}]"

        if "<" in html_text:
            html_text = MEDIA_TAG_RE.sub(media_tag, html_text)
        if "[sound:" in html_text:
            html_text = SOUND_RE.sub(sound, html_text)
        return html_text

    def media_name(self, path: Path) -> str | None:
        """`<stem>-<hash>.<ext>`: two versions of a file never share a name in Anki.

        None when it is not a file inside the project: a file outside is never packaged (nor
        reused from a cached note that names it).
        """
        digest = self.digest(path)
        if digest is None:
            return None
        stem = re.sub(r"[^A-Za-z0-9-]+", "-", path.stem).strip("-") or "media"
        return f"{stem}-{digest[:12]}{path.suffix.lower()}"

    def digest(self, path: Path) -> str | None:
        """The SHA-256 of a file inside the project (read once per run), or None when it is not one."""
        found = self._digests.get(path)
        if found is None:
            if not (self.boundary.contains(path) and _is_file(path)):
                return None
            found = self._digests[path] = file_digest(path).hex()  # a megabyte at a time: an image can be large
        return found


def local_file(relative: str, folder: Path, media_folder: Path | None) -> Path:
    """The file a card's image or media reference names (unquoted), `folder` the card's: a plain name, as Anki's flat
    media folder has it, is found in the deck's media folder first."""
    if media_folder is not None and "/" not in relative and _is_file(media_folder / relative):
        return media_folder / relative
    return folder / relative


def tag_name(tag: str) -> str:
    """The name of a tag MEDIA_TAG_RE found, in lower case."""
    return re.match(r"<(\w+)", tag).group(1).lower()  # type: ignore[union-attr]


def media_source(tag: str) -> tuple[re.Match, str] | None:
    """The first `src` or `data` attribute of a media tag (as MEDIA_TAG_RE finds it, as Anki reads it) and its
    value as written, or None."""
    for attribute in ATTRIBUTE_RE.finditer(tag, len(tag_name(tag)) + 1):
        if attribute.group(2).lower() in ("src", "data") and attribute.group(3) is not None:
            return attribute, next(v for v in attribute.groups()[3:] if v is not None)
    return None


def with_source(tag: str, attribute: re.Match, escaped: str) -> str:
    """The tag with that `src` (or `data`) attribute's value replaced (`escaped`: already HTML-escaped), double-quoted."""
    return f'{tag[:attribute.start()]}{attribute.group(1)}{attribute.group(2)}{attribute.group(3)}"{escaped}"' \
           f'{tag[attribute.end():]}'


def _is_file(path: Path) -> bool:
    """Whether `path` is a file (a name no file system takes, over 255 bytes, names none: is_file() raises)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _line_offset(source: str, needle: str) -> int:
    index = source.find(needle)
    return source.count("\n", 0, index) if index >= 0 else 0


def folder_media(deck: DeckConfig, renderer: Renderer, shown: str) -> tuple[tuple[Media, ...], list[Problem]]:
    """Every file of a deck's media folder, under its own name (Anki gets them all: LaTeX images it made, fonts
    the templates use); `shown`: the deck file, for a folder that is not there or not inside the project."""
    folder = deck.media_folder
    if folder is None:
        return (), []
    if not folder.is_dir():
        return (), [Problem(shown, 1, f"media folder cards/{deck.media} not found")]
    found, problems = [], []
    for path in sorted(folder.iterdir()):
        if path.is_dir() and not path.is_symlink():
            continue  # Anki's media folder is flat: a folder in it is none of the deck's
        digest = renderer.digest(path) if path.is_file() and utf8_name(path.name) else None
        if digest is None:  # never left out silently: the package would lack a file learners have
            problems.append(Problem(shown, 1, _unusable(path, f"cards/{deck.media}/{path.name}", renderer.boundary)))
            continue
        found.append(Media(path.name, path.resolve(), digest))
    return tuple(found), problems


def _unusable(path: Path, where: str, boundary: Boundary) -> str:
    """Why a file of a media folder cannot be packaged (not a regular file inside the project with a UTF-8 name)."""
    if not utf8_name(path.name):
        return f"media file '{where}': file name is not valid UTF-8: rename the file"
    if not boundary.contains(path):
        return outside("media file", where)
    if not path.exists():
        return f"media file '{where}' not found (a symbolic link to nothing)"
    return f"media file '{where}' is not a regular file (a FIFO, device or socket)"


def media_collisions(media: list[tuple[Media, str, int]], renderer: Renderer) -> list[Problem]:
    """Two different files under one name in a package (media with where each is used): Anki would keep one."""
    first: dict[str, tuple[Media, str, int]] = {}
    problems = []
    for item in media:
        m, shown, line = item
        other = first.setdefault(m.name, item)
        if other[0].source != m.source and renderer.digest(other[0].source) != renderer.digest(m.source):
            problems.append(Problem(shown, line, f"two different files would be '{m.name}' in Anki: {m.source} and "
                                    f"{other[0].source} (used at {other[1]}:{other[2]}); rename one of them"))
    return problems
