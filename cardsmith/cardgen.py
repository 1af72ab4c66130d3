"""Which cards Anki makes for a note: its template language (as far as card generation reads it), its
rule for an empty field, and its cloze deletions.

Anki (rslib: template.rs, notetype/cardgen.rs, cloze.rs) makes a card of a standard note type for
each template whose front renders a non-empty field (a replacement, whatever its filters, `type:`
included; a `{{#F}}` section only when F is non-empty; a `{{^F}}` section only when F is empty;
text, comments and `{{FrontSide}}` never count), and a card of a cloze note type for each deletion
number in any of its fields. A note that would have no card gets card 1 anyway. Every rule here is
checked against the real `anki` package by tests/test_cardgen.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence, Union

# Anki's field_is_empty: only ASCII whitespace and bare <br>/<div> tags (`&nbsp;` and `<p></p>` are content).
EMPTY_FIELD_RE = re.compile(r"(?:[ \t\n\x0b\x0c\r]|</?(?:br|div) ?/?>)*", re.I)
# Fields every note has without declaring them; `{{Tags}}` counts only when the note has tags.
SPECIAL_FIELDS = ("Card", "CardFlag", "CardID", "Deck", "Subdeck", "Tags", "Type")
HANDLEBARS_RE = re.compile(r"\{\{(.*?)\}\}|<!--.*?-->", re.S)
ALT_SYNTAX = "{{=<% %>=}}"
# The one cloze rule: `{{c<numbers>::` opens a deletion (numbers separated by commas), `}}` closes the
# innermost one; a deletion counts once closed; c0 makes no card; up to 10 nested deletions.
CLOZE_OPEN = r"\{\{c([\d,]+)::"
CLOZE_OPEN_RE = re.compile(CLOZE_OPEN)
CLOZE_TOKEN_RE = re.compile(CLOZE_OPEN + r"|\}\}")
HINT_TOKEN_RE = re.compile(CLOZE_OPEN + r"|\}\}|::")
MAX_NESTING = 10
MAX_CLOZE_CARD = 499  # the card of c500 and beyond
U16 = 1 << 16


class TemplateError(ValueError):
    """A template Anki cannot parse (it makes no card from it)."""


class Replacement(NamedTuple):
    key: str
    filters: tuple[str, ...]


class Section(NamedTuple):
    key: str
    negated: bool
    children: tuple["Node", ...]


Node = Union[str, Replacement, Section]


def field_is_empty(text: str) -> bool:
    """Anki's rule: a field of only whitespace and bare `<br>`/`<div>` tags is empty."""
    return EMPTY_FIELD_RE.fullmatch(text) is not None


def parse_template(text: str) -> tuple[Node, ...]:
    """A template's nodes (text, replacements, sections); raise TemplateError where Anki would fail."""
    if text.lstrip().startswith(ALT_SYNTAX):  # Anki's legacy `<% %>` syntax
        text = text.lstrip()[len(ALT_SYNTAX):].replace("<%", "{{").replace("%>", "}}")
    stack: list[tuple[str | None, bool, list[Node]]] = [(None, False, [])]
    position = 0
    for match in HANDLEBARS_RE.finditer(text):
        stack[-1][2].append(text[position:match.start()])
        position = match.end()
        if match.group(1) is None:
            continue  # an HTML comment: Anki skips the handlebars inside
        handle = match.group(1).lstrip("{").strip()
        if len(handle) >= 2 and handle[0] in "#^":
            stack.append((handle[1:].lstrip(), handle[0] == "^", []))
        elif len(handle) >= 2 and handle[0] == "/":
            key = handle[1:].lstrip()
            if stack[-1][0] != key:
                raise TemplateError(f"`{{{{/{key}}}}}` closes no open `{{{{#{key}}}}}`")
            opened, negated, children = stack.pop()
            stack[-1][2].append(Section(key, negated, tuple(children)))
        else:
            key, *filters = reversed(handle.split(":"))
            stack[-1][2].append(Replacement(key, tuple(filters)))
    if len(stack) > 1:
        raise TemplateError(f"`{{{{#{stack[-1][0]}}}}}` is never closed")
    stack[0][2].append(text[position:])
    return tuple(node for node in stack[0][2] if node != "")


def renders(nodes: Sequence[Node], nonempty: set[str] | frozenset[str]) -> bool:
    """Whether a front shows some field given the non-empty ones (Anki's template_is_empty, negated)."""
    for node in nodes:
        if isinstance(node, Replacement):
            if node.key in nonempty:
                return True
        elif isinstance(node, Section):
            if (node.key in nonempty) != node.negated and renders(node.children, nonempty):
                return True
    return False


def replacements(nodes: Sequence[Node]) -> list[Replacement]:
    """Every replacement in a template, inside sections too."""
    found: list[Replacement] = []
    for node in nodes:
        if isinstance(node, Replacement):
            found.append(node)
        elif isinstance(node, Section):
            found += replacements(node.children)
    return found


def cloze_numbers(text: str) -> set[int]:
    """The deletion numbers of a text, as Anki counts them (closed deletions, nested ones too, not c0)."""
    found: set[int] = set()
    stack: list[set[int]] = []
    for match in CLOZE_TOKEN_RE.finditer(text):
        if match.group(1) is not None:
            numbers = {int(n) for n in match.group(1).split(",") if n and int(n) < U16}
            if numbers and len(stack) < MAX_NESTING:
                stack.append(numbers)
        elif stack:
            found |= stack.pop()
    found.discard(0)
    return found


class Deletion(NamedTuple):
    """A top-level cloze deletion in a text: where it is, its numbers, its answer (and where that starts), its hint."""

    start: int
    end: int
    numbers: tuple[int, ...]
    answer: str
    hint: str | None
    answer_start: int


def deletions(text: str) -> list[Deletion]:
    """The top-level deletions of a text (a nested one stays inside its parent's answer)."""
    found: list[Deletion] = []
    stack: list[tuple[int, tuple[int, ...], int]] = []  # (start, numbers, where the body starts)
    for match in CLOZE_TOKEN_RE.finditer(text):
        if match.group(1) is not None:
            numbers = tuple(sorted({int(n) for n in match.group(1).split(",") if n and int(n) < U16}))
            if numbers and len(stack) < MAX_NESTING:
                stack.append((match.start(), numbers, match.end()))
        elif stack:
            start, numbers, body = stack.pop()
            if not stack:
                inner = text[body:match.start()]
                answer, hint = _split_hint(inner)
                found.append(Deletion(start, match.end(), numbers, answer, hint, body))
    return found


def _split_hint(body: str) -> tuple[str, str | None]:
    """A deletion's answer and hint: the hint follows the first `::` outside a nested deletion."""
    depth = 0
    for match in HINT_TOKEN_RE.finditer(body):
        token = match.group()
        if token == "::" and depth == 0:
            return body[:match.start()], body[match.end():]
        depth += 1 if token.startswith("{{") else -1 if token == "}}" and depth else 0
    return body, None


def reveal(text: str, shown: Callable[[Deletion], str], masked: str | None = None) -> str:
    """The text with each top-level deletion replaced by `shown(deletion)`; the deletions are found in `masked`
    when given (the text with its formulas blanked, same length: a `}}` in a formula then ends nothing)."""
    parts, position = [], 0
    for deletion in deletions(text if masked is None else masked):
        parts += [text[position:deletion.start], shown(deletion)]
        position = deletion.end
    return "".join(parts) + text[position:]


@dataclass(frozen=True)
class CardRule:
    """Which cards a note type makes for a note: its fronts parsed once, results kept per shape of note."""

    field_names: tuple[str, ...]
    cloze: bool
    fronts: tuple[tuple[Node, ...], ...]
    _known: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def cloze_fields(self) -> tuple[str, ...]:
        """The fields a cloze type's fronts show through `{{cloze:…}}` (its deletions belong there)."""
        used = {r.key for front in self.fronts for r in replacements(front) if "cloze" in r.filters}
        return tuple(name for name in self.field_names if name in used)

    def generated(self, fields: Sequence[str], has_tags: bool = False) -> tuple[int, ...]:
        """The card ordinals Anki generates for these field values (empty: none; Anki then adds card 1)."""
        if self.cloze:
            numbers: set[int] = set()
            for value in fields:
                if "{{c" in value:
                    numbers |= cloze_numbers(value)
            return tuple(sorted({min(n - 1, MAX_CLOZE_CARD) for n in numbers}))
        nonempty = frozenset(name for name, value in zip(self.field_names, fields) if not field_is_empty(value))
        key = (nonempty, has_tags)
        ords = self._known.get(key)
        if ords is None:
            ords = self._known[key] = tuple(i for i, front in enumerate(self.fronts)
                                            if renders(front, nonempty | self._specials(has_tags)))
        return ords

    def cards(self, fields: Sequence[str], has_tags: bool = False) -> tuple[int, ...]:
        """The cards Anki has for the note once added: those generated, else card 1 (ordinal 0)."""
        return self.generated(fields, has_tags) or (0,)

    def required(self, has_tags: bool = False) -> tuple[str, ...]:
        """The fields without which no card can be made, whatever the others hold."""
        if self.cloze:
            return self.cloze_fields
        everything = frozenset(self.field_names) | self._specials(has_tags)
        return tuple(name for name in self.field_names
                     if not any(renders(front, everything - {name}) for front in self.fronts))

    def _specials(self, has_tags: bool) -> frozenset[str]:
        """The special fields that count as non-empty (a note type's own field of that name hides one)."""
        return frozenset(name for name in SPECIAL_FIELDS
                         if name not in self.field_names and (has_tags or name != "Tags"))


def card_rule(field_names: Sequence[str], fronts: Sequence[str], cloze: bool) -> CardRule:
    """Parse a note type's fronts (TemplateError if one cannot be) into its card rule."""
    return CardRule(tuple(field_names), cloze, tuple(parse_template(front) for front in fronts))
