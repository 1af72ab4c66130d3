"""HTML in a rendered field: unclosed and stray tags (an unclosed `<div>` swallows the rest of the card in Anki),
scripts, event handlers and `javascript:` links (Anki runs them), and resources that need a network."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import NamedTuple

VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# Tags whose end tag HTML lets the author leave out.
OPTIONAL_END = frozenset("p li dt dd tr td th thead tbody tfoot option optgroup colgroup caption rt rp".split())
# A browser drops tabs and newlines anywhere in a URL, and control characters and spaces before it.
URL_NOISE_RE = re.compile(r"[\t\n\r]")
C0_AND_SPACE = "".join(map(chr, range(0x21)))
URL_ATTRIBUTES = frozenset(("src", "href", "poster", "data"))  # those that load what they name
EXTERNAL_RE = re.compile(r"(?:https?:)?//", re.I)
KIND = {"img": "image", "a": "link"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag not in self.open:
            self.problems.append((f"</{tag}", f"`</{tag}>` closes no open tag: remove it"))
            return
        while self.open:
            top = self.open.pop()
            if top == tag:
                break
            self._unclosed(top)

    def _unclosed(self, tag: str) -> None:
        if tag not in OPTIONAL_END:
            self.problems.append((f"<{tag}", f"`<{tag}>` is never closed: add `</{tag}>` (an unclosed tag "
                                             "can swallow the rest of the card in Anki)"))


def tag_problems(html_text: str) -> list[tuple[str, str]]:
    """(text to locate in the source, message) for each unclosed or stray tag."""
    parser = _Tags()
    parser.feed(html_text)
    parser.close()
    for tag in reversed(parser.open):
        parser._unclosed(tag)
    return parser.problems


class _Active(HTMLParser):
    """Collects what makes a field more than something to look at: `<script>` elements, `on…=` event handlers,
    `javascript:` URLs, and resources loaded from the network. Attributes as a browser reads them (any quoting,
    character references decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[str, str]] = []
        self.external: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(("<script", "`<script>`"))
        for name, value in attrs:
            url = URL_NOISE_RE.sub("", value or "").lstrip(C0_AND_SPACE)  # what a browser parses as a URL
            if name.startswith("on"):
                self.scripts.append((name, f"event handler `{name}=`"))
            elif url[:11].lower() == "javascript:":
                self.scripts.append(("javascript:", "`javascript:` link"))
            elif name == "srcdoc":  # a frame's whole page
                found = active_parts(value or "")
                self.scripts += found.scripts
                self.external += found.external
            elif name in URL_ATTRIBUTES and EXTERNAL_RE.match(url):
                self.external.append((KIND.get(tag, "resource"), (value or "").strip()))

    handle_startendtag = handle_starttag


class Active(NamedTuple):
    """What active_parts finds: (text to locate in the source, what it is) per script, event handler or
    `javascript:` URL; (image, link or resource, its URL) per resource on the network."""

    scripts: list[tuple[str, str]]
    external: list[tuple[str, str]]


def active_parts(html_text: str) -> Active:
    """The scripts, event handlers, `javascript:` URLs and network resources of a field's HTML."""
    parser = _Active()
    parser.feed(html_text)
    parser.close()
    return Active(parser.scripts, parser.external)
