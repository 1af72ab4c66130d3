"""Field HTML -> a Markdown candidate: Markdown that may render back to exactly that HTML.

Only a candidate: the importer keeps it when the build renders it to the original bytes, else the
field stays HTML. So only HTML that looks like what a Markdown renderer writes is tried (a field
opening with a paragraph, list, heading, table or quote: hand-made Anki HTML never renders back
from Markdown, which wraps text in `<p>`), and only within the card-size limit. Supported:
<p> paragraphs, <strong>/<b>, <em>/<i>, <code>, <a href>, <img>, <br>, <div> lines, simple lists and
MathJax `\\(…\\)` / `\\[…\\]` (-> `$…$` / `$$…$$`); other inline tags stay inline HTML. Everything here
is linear in the field's size and bounded in depth (a field of a thousand nested tags is no candidate).
"""

from __future__ import annotations

import html
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

from ..parse import MAX_CARD_CHARS

PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x00")
MATH_OPEN_RE = re.compile(r"\\[(\[]")
MARKDOWN_MADE_RE = re.compile(r"<(?:p|h[1-6]|ul|ol|table|blockquote)[\s>]")
LINE_TAGS = {"div", "p"}
LIST_TAGS = {"ul", "ol"}
EMPHASIS = {"b": "**", "strong": "**", "i": "*", "em": "*"}
VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "source"}
INLINE_HTML_OK = {"span", "u", "s", "sub", "sup", "font", "mark", "small", "big", "del", "ins", "strike", "kbd"}
MAX_DEPTH = 32  # nested tags: deeper is no candidate (the conversion recurses once per level)


class Fallback(Exception):
    """The field cannot be written as Markdown without changing it."""


@dataclass
class Node:
    tag: str
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)
            if len(self.stack) > MAX_DEPTH:
                raise Fallback()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def markdown_candidate(field_html: str) -> str | None:
    """Markdown that may render to exactly `field_html`, or None when none is worth trying."""
    stripped = field_html.strip()
    if not stripped or len(field_html) > MAX_CARD_CHARS or not MARKDOWN_MADE_RE.match(stripped) \
            or "\x00" in field_html or "\r" in field_html:
        return None
    try:
        return _convert(stripped) or None
    except Fallback:
        return None


def _stash_math(text: str, formulas: list[tuple[str, bool]]) -> str:
    """`text` with each MathJax formula replaced by a placeholder (kept in `formulas`); linear: a formula opened
    and never closed ends the search."""
    parts, position = [], 0
    for match in MATH_OPEN_RE.finditer(text):
        if match.start() < position:
            continue
        display = match.group() == "\\["
        end = text.find("\\]" if display else "\\)", match.end())
        if end < 0:
            break
        tex = text[match.end():end]
        if re.search(r"<(?!br\b)[a-z/]", tex, re.I) or "{{c" in tex or "$" in tex or not tex.strip():
            raise Fallback()
        tex = html.unescape(re.sub(r"<br\s*/?>", " ", tex, flags=re.I)).replace("\xa0", " ")
        formulas.append((" ".join(tex.split()), display))
        parts += [text[position:match.start()], f"\x00{len(formulas) - 1}\x00"]
        position = end + 2
    return "".join(parts) + text[position:]


def _convert(field_html: str) -> str:
    formulas: list[tuple[str, bool]] = []
    builder = _TreeBuilder()
    builder.feed(_stash_math(field_html, formulas))
    builder.close()
    text = "\n\n".join(b for b in _blocks(builder.root) if b.strip())

    def unstash(match: re.Match) -> str:
        tex, display = formulas[int(match.group(1))]
        return f"\n\n$$\n{tex}\n$$\n\n" if display else f"${tex}$"

    text = PLACEHOLDER_RE.sub(unstash, text)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()


def _blocks(node: Node) -> list[str]:
    """Block-level children -> Markdown blocks; <div> lines join with <br> like Anki shows them."""
    blocks: list[str] = []
    lines: list[str] = []
    current = ""

    def end_line(force: bool = False) -> None:
        nonlocal current
        if current.strip() or force:
            lines.append(current.strip())
        current = ""

    def end_block() -> None:
        end_line()
        if lines:
            blocks.append("<br>\n".join(lines))
        lines.clear()

    for child in node.children:
        if isinstance(child, str) or child.tag not in LINE_TAGS | LIST_TAGS | {"br"}:
            current += _inline(child)
        elif child.tag == "br":
            end_line(force=True)
        elif child.tag == "div":
            end_line()
            if any(isinstance(c, Node) and c.tag in LINE_TAGS | LIST_TAGS for c in child.children):
                end_block()
                blocks += _blocks(child)
            else:
                inner = _blocks(child)
                if len(inner) > 1:
                    end_block()
                    blocks += inner
                elif inner:
                    lines.extend(inner[0].split("<br>\n"))
                else:
                    lines.append("")  # <div><br></div>: an empty line
        elif child.tag == "p":
            end_block()
            blocks += _blocks(child)
        else:
            end_block()
            blocks.append(_list(child))
    end_block()
    while blocks and blocks[-1].endswith("<br>\n"):
        blocks[-1] = blocks[-1][:-5]
    return blocks


def _list(node: Node) -> str:
    items = []
    for index, child in enumerate(c for c in node.children if isinstance(c, Node)):
        if child.tag != "li" or any(isinstance(c, Node) and c.tag in LINE_TAGS | LIST_TAGS | {"br"}
                                    for c in child.children):
            raise Fallback()
        marker = f"{index + 1}." if node.tag == "ol" else "-"
        items.append(f"{marker} {''.join(_inline(c) for c in child.children).strip()}")
    if any(isinstance(c, str) and c.strip() for c in node.children) or not items:
        raise Fallback()
    return "\n".join(items)


def _inline(node: Node | str) -> str:
    if isinstance(node, str):
        return _escape(node)
    tag = node.tag
    inner = "".join(_inline(c) for c in node.children)
    attrs = dict(node.attrs)
    if tag in EMPHASIS and not node.attrs:
        stripped = inner.strip()
        if not stripped:
            return inner
        lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
        return f"{lead}{EMPHASIS[tag]}{stripped}{EMPHASIS[tag]}{trail}"
    if tag == "code" and not node.attrs and all(isinstance(c, str) for c in node.children):
        code = "".join(node.children)  # type: ignore[arg-type]
        if "`" in code or "\x00" in code or not code.strip():
            raise Fallback()
        return f"`{code}`"
    if tag == "img" and set(attrs) <= {"src", "alt"} and attrs.get("src"):
        alt = (attrs.get("alt") or "").replace("]", "").replace("[", "")
        return f"![{alt}]({urllib.parse.quote(attrs['src'] or '', safe='/:')})"
    if tag == "a" and set(attrs) == {"href"} and attrs["href"] and " " not in attrs["href"]:
        return f"[{inner}]({attrs['href']})"
    if tag in INLINE_HTML_OK:
        opening = "".join(f' {k}="{html.escape(v or "", quote=True)}"' for k, v in node.attrs)
        return f"<{tag}{opening}>{inner}</{tag}>"
    raise Fallback()


def _escape(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = text.replace("\\", "\\\\").replace("`", "\\`").replace("*", "\\*").replace("$", "\\$")
    text = re.sub(r"(?<!\w)_|_(?!\w)", r"\\_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")
    text = text.replace("[", "&#91;").replace("]", "&#93;")
    text = re.sub(r"^(\s*)([#+-])", r"\1\\\2", text)
    return re.sub(r"^(\s*\d+)\.", r"\1\\.", text)
