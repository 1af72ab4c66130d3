"""Markdown extension: each line of a highlighted code block becomes its own element that
carries the line's indentation, so that templates/base.css can wrap a long line on a narrow
screen and indent its continuation under the line's own code (a hanging indent).

Without that CSS the HTML shows exactly as before: the line elements are plain inline spans
and every line still ends in its newline.
"""

from __future__ import annotations

import html
import re

from markdown import Extension, Markdown
from markdown.postprocessors import Postprocessor

# pymdownx.highlight's block (after the raw-HTML postprocessor has put it back into the page).
CODE_BLOCK_RE = re.compile(r'(<div class="highlight"><pre><span></span><code>)(.*?)(</code></pre></div>)', re.S)
TAG_RE = re.compile(r"<[^>]*>")


def indentation(line_html: str) -> int:
    """The number of spaces a line of highlighted code starts with."""
    text = html.unescape(TAG_RE.sub("", line_html))
    return len(text) - len(text.lstrip(" "))


def wrap_lines(code_html: str) -> str:
    """`<span class="cs-line" style="--indent:N">…\\n</span>` per line (Pygments closes its spans at each newline)."""
    lines = code_html.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(f'<span class="cs-line" style="--indent:{indentation(line)}">{line}\n</span>' for line in lines)


class CodeLines(Postprocessor):
    """Wrap every line of every highlighted code block (see the module docstring)."""

    def run(self, text: str) -> str:
        return CODE_BLOCK_RE.sub(lambda m: m.group(1) + wrap_lines(m.group(2)) + m.group(3), text)


class CodeLinesExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        # Below the raw-HTML postprocessor (30), which puts the highlighted blocks back into the page.
        md.postprocessors.register(CodeLines(md), "cardsmith_code_lines", 5)


def makeExtension(**kwargs) -> CodeLinesExtension:  # noqa: N802 (the name Markdown looks for)
    return CodeLinesExtension(**kwargs)
