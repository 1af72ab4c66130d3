"""Raw form: a field written so that it is its HTML, byte for byte (the one rule; parse, resolve and import use it).

A field in raw form is a fenced block whose info string is `{=html}` (Pandoc's raw attribute): its lines
are the field's HTML, any bytes but a carriage return (a line end in a card file). The first field may
also be a heading ending in ` {=html}` (one line, as it is before that), or the heading `## {=html}`
with such a block in the lines of a long question. Raw form is how `import` keeps what Markdown cannot
give back; it is not rendered, and `check` does not lint it.
"""

from __future__ import annotations

import re

RAW_ATTRIBUTE = "{=html}"


def raw_html(text: str, first: bool = False) -> str | None:
    """The HTML of a field written in raw form (see the module docstring), byte for byte; None when it is not.

    `text` is the field as written, without the blank lines around it; `first`: the card's first field
    (its heading line, then the lines of a long question).
    """
    if first:
        head, _, rest = text.partition("\n")
        if head == RAW_ATTRIBUTE:  # `## {=html}`: the block under the id comment holds the field
            return _raw_block(rest.strip("\n").split("\n")) if rest.strip() else None
        if head.endswith(" " + RAW_ATTRIBUTE) and not rest:
            return head[:-len(RAW_ATTRIBUTE) - 1]
    return _raw_block(text.split("\n"))


def _raw_block(lines: list[str]) -> str | None:
    """The lines of a fenced block with the info string {=html}, when `lines` are exactly one such block."""
    from .parse import track_fence  # the code base's fence rule (parse imports this module)

    if len(lines) < 2:
        return None
    fence, opened = track_fence(lines[0], None)
    if not opened or lines[0][:len(fence)] != fence or lines[0][len(fence):].strip() != RAW_ATTRIBUTE:
        return None
    if track_fence(lines[-1], fence)[0] is not None:
        return None
    inner = lines[1:-1]
    if any(track_fence(line, fence)[0] is None for line in inner):
        return None
    return "\n".join(inner)


def raw_block(html_text: str) -> str:
    """`html_text` as a raw block: a fence longer than any run of backticks in it (so no line of it can close it)."""
    longest = max((len(run) for run in re.findall("`+", html_text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{RAW_ATTRIBUTE}\n{html_text}\n{fence}" if html_text else f"{fence}{RAW_ATTRIBUTE}\n{fence}"


def raw_text(html_text: str, first: bool = False) -> str:
    """A field's HTML written in raw form (the text `raw_html` reads back): a block; for the card's first field a
    heading ending in ` {=html}` when the HTML is one line that does not start with a space (a heading's text is
    stripped), else the heading `{=html}` with the block in the lines of a long question."""
    if not first:
        return raw_block(html_text)
    if html_text and "\n" not in html_text and "\r" not in html_text and html_text == html_text.lstrip():
        return f"{html_text} {RAW_ATTRIBUTE}"
    return f"{RAW_ATTRIBUTE}\n{raw_block(html_text)}"
