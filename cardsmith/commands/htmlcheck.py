"""HTML in a rendered field: unclosed and stray tags (an unclosed `<div>` swallows the rest of the card in Anki),
and scripts or event handlers (Anki runs them)."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# Tags whose end tag HTML lets the author leave out.
OPTIONAL_END = frozenset("p li dt dd tr td th thead tbody tfoot option optgroup colgroup caption rt rp".split())


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


class _Scripts(HTMLParser):
    """Collects `<script>` elements, `on…=` event handlers and `javascript:` URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(("<script", "`<script>`"))
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append((name, f"event handler `{name}=`"))
            elif (value or "").strip().lower().startswith("javascript:"):
                self.found.append(("javascript:", "`javascript:` link"))
            elif name == "srcdoc":  # a frame's whole page
                self.found += script_parts(value or "")

    handle_startendtag = handle_starttag


def script_parts(html_text: str) -> list[tuple[str, str]]:
    """(text to locate in the source, what it is) for each script, event handler or `javascript:` URL."""
    parser = _Scripts()
    parser.feed(html_text)
    parser.close()
    return parser.found
