"""Anki field HTML -> cardsmith Markdown, kept only when rendering it back gives the same content.

Supported: text, <b>/<strong>, <i>/<em>, <code>, <a href>, <img>, <br>, <div>/<p> lines, simple
lists, and MathJax `\\(…\\)` / `\\[…\\]` (-> `$…$` / `$$…$$`). Other inline tags stay inline HTML;
anything else (tables, headings, <pre>, …) keeps the whole field as one raw HTML line.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser

import markdown

from .. import mathtex
from ..render import MARKDOWN_CONFIG, MARKDOWN_EXTENSIONS

MATH_RE = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)
PLACEHOLDER_RE = re.compile(r"\x00(\d+)\x00")
LINE_TAGS = {"div", "p"}
LIST_TAGS = {"ul", "ol"}
EMPHASIS = {"b": "**", "strong": "**", "i": "*", "em": "*"}
VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "source"}
INLINE_HTML_OK = {"span", "u", "s", "sub", "sup", "font", "mark", "small", "big", "del", "ins", "strike", "kbd"}
SAME_TAG = {"strong": "b", "em": "i"}


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

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    """A forgiving HTML tree (unclosed tags end at their parent's end)."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def to_markdown(field_html: str) -> tuple[str, bool]:
    """Return (Markdown, lossless): Markdown when it renders back to the same content, else raw HTML."""
    field_html = field_html.strip()
    if not field_html:
        return "", True
    try:
        text = _convert(field_html)
        if lines_of(render(text)) == lines_of(field_html):
            return text, True
    except Fallback:
        pass
    return raw_html(field_html), False


def raw_html(field_html: str) -> str:
    """The field as one raw HTML line that Markdown passes through untouched (math stays `\\(…\\)`)."""
    body = field_html.strip().replace("\r", "").replace("\n", "&#10;").replace("$", "&#36;")
    return f'<div class="cs-imported">{body}</div>'


def render(text: str) -> str:
    """Markdown -> HTML exactly as the build renders it (without media packaging)."""
    md = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG)
    return mathtex.finish_math(md.convert(mathtex.separate_display_math(text)))


def _convert(field_html: str) -> str:
    formulas: list[tuple[str, bool]] = []

    def stash(match: re.Match) -> str:
        display = match.group(2) is not None
        tex = match.group(2) if display else match.group(1)
        if re.search(r"<(?!br\b)[a-z/]", tex, re.I) or "{{c" in tex or "$" in tex or not tex.strip():
            raise Fallback()
        tex = html.unescape(re.sub(r"<br\s*/?>", " ", tex, flags=re.I)).replace("\xa0", " ")
        formulas.append((" ".join(tex.split()), display))
        return f"\x00{len(formulas) - 1}\x00"

    tree = parse_html(MATH_RE.sub(stash, field_html))
    blocks = _blocks(tree)
    text = "\n\n".join(b for b in blocks if b.strip())

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
        code = "".join(node.children)
        if "`" in code or "\x00" in code or not code.strip():
            raise Fallback()
        return f"`{code}`"
    if tag == "img" and set(attrs) <= {"src", "alt"} and attrs.get("src"):
        alt = (attrs.get("alt") or "").replace("]", "").replace("[", "")
        return f"![{alt}]({urllib.parse.quote(attrs['src'], safe='/:')})"
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


def lines_of(field_html: str) -> list[tuple]:
    """A field as Anki shows it: visual lines of (tag, text) tokens, for comparing two versions."""
    result: list[tuple] = []
    current: list[tuple] = []

    def end(force: bool = False) -> None:
        nonlocal current
        line = _merge(current)
        if line or force:
            result.append(line)
        current = []

    def walk(node: Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                current.append(("text", child))
            elif child.tag == "br":
                end(force=True)
            elif child.tag in LINE_TAGS or child.tag in LIST_TAGS or child.tag == "li":
                end()
                if child.tag != "div" and child.tag != "p":
                    current.append((child.tag,))
                walk(child)
                end()
            else:
                tag = SAME_TAG.get(child.tag, child.tag)
                attrs = tuple(sorted((k, urllib.parse.unquote(v or "")) for k, v in child.attrs
                                     if v or k != "alt"))
                current.append((tag, attrs))
                walk(child)
                current.append(("/" + tag,))

    walk(parse_html(field_html))
    end()
    while result and result[-1] == ():
        result.pop()
    return result


def _merge(tokens: list[tuple]) -> tuple:
    merged: list[tuple] = []
    for token in tokens:
        if token[0] == "text" and merged and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + token[1])
        else:
            merged.append(token)
    out = []
    for token in merged:
        if token[0] == "text":
            text = re.sub(r"\s+", " ", token[1].replace("\xa0", " "))
            text = re.sub(r"(?<=[}:])\s+(?=[}:])", "", text)
            text = re.sub(r"\s*(\\[\[\]()])\s*", r"\1", text)
            if text.strip():
                out.append(("text", text))
        else:
            out.append(token)
    if out and out[0][0] == "text":
        out[0] = ("text", out[0][1].lstrip())
    if out and out[-1][0] == "text":
        out[-1] = ("text", out[-1][1].rstrip())
    return tuple(t for t in out if t != ("text", ""))
