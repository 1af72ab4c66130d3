"""What cannot fit a 412 px phone screen, seen without a browser (warnings of `cardsmith check`).

Code wraps on a phone (templates/base.css, cardsmith/codelines.py), so only a run of characters
without a space that is longer than a row still scrolls sideways. An inline formula cannot wrap
at all: its width is estimated from its TeX (against Anki's MathJax on the deck's 145 inline
formulas wider than 100 px, in the cards' font: 2.5 % low on average, 7 % standard deviation);
tests/test_browser_render.py checks both limits, and the estimate, in a browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import mathtex
from ..parse import code_lines

# The geometry templates/base.css gives a 412 px screen: 12 px card padding either side leaves 388 px
# for text at 18 px; a code row holds 42 characters (14.4 px monospace in a padded box), and a wrapped
# line continues 4 columns deeper than its own indentation.
CODE_COLUMNS = 42
HANGING_INDENT = 4
TEXT_PX = 388
FONT_PX = 18
TAB_SIZE = 8  # the CSS default

WORD_RE = re.compile(r"( *)([^ ]+)")


@dataclass(frozen=True)
class Misfit:
    """Something that does not fit a phone screen; `offset` is the line within the card part."""

    offset: int
    message: str


def misfits(text: str) -> list[Misfit]:
    """Code words too long for a phone's row, and inline formulas wider than a phone's line."""
    found = []
    lines = text.split("\n")
    for number, is_fence in code_lines(lines):
        word = None if is_fence else unbreakable(lines[number])
        if word:
            found.append(Misfit(number, f"code `{mathtex.short(word)}` ({len(word)} characters "
                                f"without a space) is too long for a row of a 412 px phone screen "
                                f"({CODE_COLUMNS} characters, less the line's indentation): it scrolls "
                                "sideways; break the line at a space or shorten it"))
    formulas, _ = mathtex.scan(text)
    for formula in formulas:
        width = 0 if formula.display else round(formula_width(formula.tex) * FONT_PX)
        if width > TEXT_PX:
            found.append(Misfit(formula.offset, f"inline formula `{mathtex.short(formula.tex)}` is about "
                                f"{width} px wide, wider than a line of a 412 px phone screen ({TEXT_PX} px): "
                                "make it a display formula ($$…$$ on its own lines) or shorten it"))
    return found


def unbreakable(line: str) -> str | None:
    """The first word of a code line that overflows its row however the line wraps (breaks at spaces)."""
    line = line.rstrip().expandtabs(TAB_SIZE)
    hang = len(line) - len(line.lstrip(" ")) + HANGING_INDENT
    column = None
    for spaces, word in WORD_RE.findall(line):
        if column is None:  # the first word stays on the first row, after the indentation
            column = len(spaces) + len(word)
            if column > CODE_COLUMNS:
                return word
        elif column + len(spaces) + len(word) <= CODE_COLUMNS:
            column += len(spaces) + len(word)
        elif hang + len(word) <= CODE_COLUMNS:
            column = hang + len(word)  # wraps onto a continuation row
        else:
            return word
    return None


# --- the width of an inline formula, in em of the text around it ----------------------------------
# MathJax scales math to the x-height of the text (about 1.17 for the card's sans-serif font); the
# other figures are TeX's glyph widths and the spacing it puts around operators and relations.
MATH_SCALE = 1.17
SCRIPT_SCALE = 0.7
TOKEN_RE = re.compile(r"\\[a-zA-Z]+|\\.|\S")
RELATIONS = {"=", "<", ">", r"\le", r"\ge", r"\leq", r"\geq", r"\approx", r"\sim", r"\in", r"\notin", r"\to",
             r"\gets", r"\leftarrow", r"\rightarrow", r"\Leftarrow", r"\Rightarrow", r"\mapsto", r"\mid", r"\ne",
             r"\neq", r"\propto", r"\equiv", r"\ll", r"\gg", r"\subset", r"\subseteq"}
BINARY = {"+", "-", "*", r"\cdot", r"\times", r"\pm", r"\odot", r"\otimes", r"\oplus", r"\circ", r"\cup",
          r"\cap", r"\setminus", r"\ast"}
FUNCTIONS = {r"\log", r"\exp", r"\ln", r"\max", r"\min", r"\arg", r"\lim", r"\sup", r"\inf", r"\det", r"\Pr",
             r"\sin", r"\cos", r"\tanh", r"\sinh", r"\cosh"}
SPACES = {r"\,": 0.167, r"\:": 0.222, r"\;": 0.278, r"\ ": 0.25, "~": 0.25, r"\quad": 1.0, r"\qquad": 2.0,
          r"\!": -0.167}
TEXT_COMMANDS = {r"\text", r"\operatorname", r"\mathrm", r"\textrm", r"\textit", r"\textbf", r"\texttt", r"\mbox"}
ACCENTS = {r"\mathcal", r"\mathbb", r"\mathbf", r"\mathit", r"\mathscr", r"\mathfrak", r"\boldsymbol", r"\bm",
           r"\hat", r"\tilde", r"\bar", r"\vec", r"\dot", r"\ddot", r"\widehat", r"\widetilde", r"\overline",
           r"\underline"}
INVISIBLE = {"{", "}", r"\left", r"\right", r"\big", r"\Big", r"\bigl", r"\bigr", r"\Bigl", r"\Bigr",
             r"\displaystyle", r"\textstyle", r"\limits", r"\nolimits"}
THIN = set(".;:!'[]|") | {r"\vert", r"\lvert", r"\rvert"}
NARROW = {"(", ")", r"\lfloor", r"\rfloor", r"\lceil", r"\rceil", r"\langle", r"\rangle"}
HALF = {"/", r"\{", r"\}", r"\|", r"\Vert", r"\lVert", r"\rVert"}
FRACTIONS = {r"\frac", r"\tfrac", r"\dfrac"}
LARGE = {r"\sum", r"\prod", r"\int", r"\bigcup", r"\bigcap"}
DOTS = {r"\dots", r"\ldots", r"\cdots"}


def formula_width(tex: str) -> float:
    """The estimated width of an inline formula, in em of the surrounding text."""
    return MATH_SCALE * _width(TOKEN_RE.findall(tex), False)


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The argument starting at tokens[i] (a braced group or one token) and the index after it."""
    if i >= len(tokens):
        return [], i
    if tokens[i] != "{":
        return [tokens[i]], i + 1
    depth = 0
    for j in range(i, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[j], 0)
        if depth == 0:
            return tokens[i + 1:j], j + 1
    return tokens[i + 1:], len(tokens)


def _width(tokens: list[str], script: bool) -> float:
    """Width in em of TeX tokens; in a script, operators get no space around them."""
    gap = 0.0 if script else 1.0
    total, i = 0.0, 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token in ("^", "_"):
            argument, i = _group(tokens, i)
            width = _width(argument, True)
            if i < len(tokens) and tokens[i] in ("^", "_") and tokens[i] != token:  # x_i^2: stacked
                other, i = _group(tokens, i + 1)
                width = max(width, _width(other, True))
            total += SCRIPT_SCALE * width
        elif token in FRACTIONS:
            top, i = _group(tokens, i)
            bottom, i = _group(tokens, i)
            # \dfrac keeps the text size in an inline formula; \frac and \tfrac shrink to script size.
            small = token != r"\dfrac"
            scale = SCRIPT_SCALE if small else 1.0
            total += scale * max(_width(top, small), _width(bottom, small)) + 0.2
        elif token == r"\sqrt":
            argument, i = _group(tokens, i)
            total += _width(argument, script) + 0.85
        elif token in TEXT_COMMANDS:
            argument, i = _group(tokens, i)
            total += 0.5 * len("".join(argument)) + 0.17 * gap
        elif token in ACCENTS:
            argument, i = _group(tokens, i)
            total += _width(argument, script)
        elif token in INVISIBLE:
            pass
        elif token in SPACES:
            total += SPACES[token]
        elif token in RELATIONS:
            total += 0.78 + 0.56 * gap
        elif token in BINARY:
            total += 0.78 + 0.44 * gap
        elif token == ",":
            total += 0.28 + 0.17 * gap
        elif token in FUNCTIONS:
            total += 0.5 * (len(token) - 1) + 0.17 * gap
        elif token in DOTS:
            total += 1.17 + 0.17 * gap
        elif token in LARGE:
            total += 1.05
        elif token in THIN:
            total += 0.28
        elif token in NARROW:
            total += 0.39
        elif token in HALF:
            total += 0.5
        elif token.startswith("\\"):
            total += 0.6  # a Greek letter or another symbol
        else:
            total += 0.75 if token.isupper() else 0.5 if token.isdigit() else 0.52
    return total
