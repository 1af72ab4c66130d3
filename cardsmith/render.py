"""ResolvedNote -> Rendered (stage 4): each field's Markdown to HTML (or its HTML as written, for a field of
format `html`), math kept for Anki's MathJax, Anki's LaTeX kept for Anki, code highlighted at build
time, local images and sounds packaged as content-hashed media."""

from __future__ import annotations

import hashlib
import html
import re
import urllib.parse
from pathlib import Path
from typing import Any

import markdown

from . import mathtex
from .boundary import Boundary, outside
from .cardgen import CLOZE_OPEN_RE
from .errors import Problem, collapse_repeats
from .model import FieldText, Media, Rendered, ResolvedNote

# A tag <img …> (attribute values may hold `>`), and its attributes: the one rule for finding an image's source.
IMG_RE = re.compile(r"""<img\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.I)
ATTRIBUTE_RE = re.compile(r"""(\s+)([^\s"'>/=]+)(?:(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
SOUND_RE = re.compile(r"\[sound:([^\]]+)\]")  # Anki plays the file wherever the field says this
EXTERNAL_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)

MARKDOWN_EXTENSIONS = [
    "tables", "sane_lists", "attr_list",
    "pymdownx.superfences", "pymdownx.highlight", "pymdownx.arithmatex",
    "cardsmith.codelines",  # one element per code line: code wraps on a phone (templates/base.css)
    "cardsmith.render:BoundedLinks",  # below: rendering stays linear in the card's size
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
        self._media_names: dict[Path, str] = {}

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
            parts.append(self._package_media(html_text, field, folder, shown, media, problems))
        if problems:
            return None, collapse_repeats(problems)
        return Rendered(tuple(parts), tuple(sorted(set(media), key=lambda m: m.name))), []

    def _markdown_field(self, field: FieldText, shown: str, problems: list[Problem]) -> str | None:
        """A Markdown field's HTML, or None (with the problems) when its math is malformed or it nests too deep."""
        text, first_line = field.text, field.line
        formulas, issues = mathtex.scan(text)
        for issue in issues:
            if issue.severity == "error":
                problems.append(Problem(shown, first_line + issue.offset, issue.message))
        for formula in formulas:
            if CLOZE_OPEN_RE.search(formula.tex):
                problems.append(Problem(shown, first_line + formula.offset,
                                        f"cloze deletion inside math `{mathtex.short(formula.tex)}`: Anki cannot "
                                        "hide part of a formula; put the whole formula inside the deletion: "
                                        "{{c1::$…$}}"))
        protected, latex = mathtex.protect_latex(text)
        try:
            html_text = self._md.reset().convert(mathtex.separate_display_math(protected))
        except RecursionError:  # Python-Markdown recurses once per level of nested lists
            problems.append(Problem(shown, first_line, "nested too deeply to render "
                                    "(lists or quotes inside each other hundreds of levels deep)"))
            return None
        return mathtex.restore_latex(mathtex.finish_math(html_text), latex)

    def _package_media(self, html_text: str, field: FieldText, folder: Path, shown: str, media: list[Media],
                       problems: list[Problem]) -> str:
        """The field with each local image and sound renamed to its media name (a missing one is a problem)."""
        def packaged(written: str, what: str) -> str | None:
            src = html.unescape(written)
            if EXTERNAL_RE.match(src) or not src:
                return None
            path = folder / urllib.parse.unquote(src)
            name = self.media_name(path)
            if name is None:
                line = field.line + _line_offset(field.text, src)
                # Outside the project, whether the file exists is none of the card's business.
                message = f"{what} not found: {src}" if self.boundary.contains(path) else outside(what, src)
                problems.append(Problem(shown, line, message))
                return None
            media.append(Media(name, path.resolve()))
            return html.escape(name)

        def image(tag: re.Match) -> str:
            source = image_source(tag.group(0))
            name = packaged(source[1], "image") if source else None
            return tag.group(0) if name is None else with_source(tag.group(0), source[0], name)  # type: ignore[index]

        def sound(match: re.Match) -> str:
            name = packaged(match.group(1), "sound")
            return match.group(0) if name is None else f"[sound:{name}]"

        if "<img" in html_text or "<IMG" in html_text:
            html_text = IMG_RE.sub(image, html_text)
        if "[sound:" in html_text:
            html_text = SOUND_RE.sub(sound, html_text)
        return html_text

    def media_name(self, path: Path) -> str | None:
        """`<stem>-<hash>.<ext>`: two versions of a file never share a name in Anki.

        None when it is not a file inside the project: a file outside is never packaged (nor
        reused from a cached note that names it).
        """
        if not (self.boundary.contains(path) and path.is_file()):
            return None
        name = self._media_names.get(path)
        if name is None:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            stem = re.sub(r"[^A-Za-z0-9-]+", "-", path.stem).strip("-") or "media"
            name = f"{stem}-{digest}{path.suffix.lower()}"
            self._media_names[path] = name
        return name


def image_source(tag: str) -> tuple[re.Match, str] | None:
    """The `src` attribute of an `<img …>` tag (as IMG_RE finds it) and its value as written, or None."""
    for attribute in ATTRIBUTE_RE.finditer(tag, 4):
        if attribute.group(2).lower() == "src" and attribute.group(3) is not None:
            return attribute, next(v for v in attribute.groups()[3:] if v is not None)
    return None


def with_source(tag: str, attribute: re.Match, escaped: str) -> str:
    """The tag with that `src` attribute's value replaced (`escaped`: already HTML-escaped), double-quoted."""
    return f'{tag[:attribute.start()]}{attribute.group(1)}{attribute.group(2)}{attribute.group(3)}"{escaped}"' \
           f'{tag[attribute.end():]}'


def _line_offset(source: str, needle: str) -> int:
    index = source.find(needle)
    return source.count("\n", 0, index) if index >= 0 else 0
