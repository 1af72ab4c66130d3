"""Math in card sources: find `$…$` / `$$…$$` structurally, and make rendered math safe for Anki.

Rendering itself is done by pymdownx.arithmatex (generic mode), which emits `\\(…\\)` and
`\\[…\\]` and never lets Markdown touch the formula. This module adds what Anki needs on top
(no newline inside a formula, no `}}` or `::` that would end a cloze deletion) and a pure-Python
scanner that finds unclosed delimiters and unbalanced braces with their line numbers.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .parse import FENCE_RE, code_lines, track_fence

CODE_SPAN_RE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
INLINE_MATH_RE = re.compile(r"\$(?!\s)((?:[^$])+?)(?<!\s)\$(?!\$)")
RENDERED_MATH_RE = re.compile(
    r'<span class="arithmatex">(\\\(.*?\\\))</span>|<div class="arithmatex">(\\\[.*?\\\])</div>', re.S)


@dataclass(frozen=True)
class MathIssue:
    """A structural problem in the math of a card part; `offset` is the line within the part."""

    offset: int
    message: str
    severity: str = "error"


@dataclass(frozen=True)
class Formula:
    offset: int
    tex: str
    display: bool


def _blank(match: re.Match) -> str:
    """Replace code with spaces, keeping newlines so that line numbers stay right."""
    return re.sub(r"[^\n]", " ", match.group(0))


def mask_code(text: str) -> str:
    """Text with fenced code blocks (the parser's fence rule) and inline code spans blanked out."""
    lines = text.split("\n")
    for index, _ in code_lines(lines):  # the fence lines themselves, and everything between
        lines[index] = " " * len(lines[index])
    return CODE_SPAN_RE.sub(_blank, "\n".join(lines))


def scan(text: str) -> tuple[list[Formula], list[MathIssue]]:
    """Find the formulas in Markdown text the way arithmatex (smart dollar) reads them.

    Linear in the text: line numbers come from one list of line starts, never from counting again.
    """
    masked = mask_code(text).replace("\\\\", "  ").replace("\\$", "  ")
    starts = [0] + [m.end() for m in re.finditer("\n", masked)]  # where each line starts

    def line_of(pos: int) -> int:
        return bisect.bisect_right(starts, pos) - 1

    def line_end(line: int) -> int:
        return starts[line + 1] - 1 if line + 1 < len(starts) else len(masked)

    formulas: list[Formula] = []
    issues: list[MathIssue] = []
    pos = 0
    while True:
        start = masked.find("$", pos)
        if start < 0:
            break
        line = line_of(start)
        if masked.startswith("$$", start):
            end = masked.find("$$", start + 2)
            if end < 0:
                issues.append(MathIssue(line, "unclosed display math: `$$` has no closing `$$`"))
                break
            end_line = line_of(end)
            before = masked[starts[line]:start]
            after = masked[end + 2:line_end(end_line)]
            if before.strip() or after.strip():
                issues.append(MathIssue(line, "display math `$$…$$` must stand on its own lines "
                                              "(use `$…$` for math inside a sentence)"))
            formulas.append(Formula(line, masked[start + 2:end], True))
            pos = end + 2
            continue
        following = masked[start + 1:start + 2]
        match = INLINE_MATH_RE.match(masked, start)
        if match and "\n\n" not in match.group(1).replace(" ", ""):
            tex = match.group(1)
            formulas.append(Formula(line, tex, False))
            if "\n" in tex:
                issues.append(MathIssue(line, "inline math `$…$` spans a line break; keep it on one line", "warning"))
            pos = match.end()
            continue
        if following and not following.isspace() and not following.isdigit():
            issues.append(MathIssue(line, "unclosed inline math: `$` has no closing `$` (write `\\$` for a dollar sign)"))
        pos = start + 1
    for formula in formulas:
        problem = _brace_problem(formula.tex)
        if problem:
            issues.append(MathIssue(formula.offset, problem))
    return formulas, issues


def _brace_problem(tex: str) -> str | None:
    depth = 0
    cleaned = re.sub(r"\\[{}]|\\\\", "", tex)
    for char in cleaned:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return f"unbalanced braces in formula `{short(tex)}`: a `}}` has no opening `{{`"
    if depth > 0:
        return f"unbalanced braces in formula `{short(tex)}`: {depth} `{{` not closed"
    return None


def short(tex: str) -> str:
    """A formula shortened for a message."""
    tex = " ".join(tex.split())
    return tex if len(tex) <= 40 else tex[:37] + "..."


def separate_display_math(text: str) -> str:
    """Put blank lines around `$$` blocks (and before code fences) so each is a block of its own."""
    out: list[str] = []
    fence: str | None = None
    in_math = False
    need_blank = False
    for line in text.split("\n"):
        stripped = line.strip()
        if need_blank and stripped:
            out.append("")
        need_blank = False
        if fence is not None or (not in_math and FENCE_RE.match(line)):
            fence, opened = track_fence(line, fence)
            if opened and out and out[-1].strip():
                out.append("")  # a fence right under a paragraph line would end up inside it
        elif not in_math and stripped.startswith("$$"):
            if out and out[-1].strip():
                out.append("")
            if stripped.count("$$") >= 2 and stripped.endswith("$$"):
                need_blank = True
            else:
                in_math = True
        elif in_math and "$$" in stripped:
            in_math = False
            need_blank = True
        out.append(line)
    return "\n".join(out)


def finish_math(html: str) -> str:
    """Unwrap arithmatex's markers and make each formula safe inside an Anki field.

    A newline inside a formula breaks it in Anki, and `}}` or `::` would end a cloze deletion
    early (Anki's documented workaround is a space between the characters, which TeX ignores).
    """
    def fix(match: re.Match) -> str:
        tex = match.group(1) or match.group(2)
        tex = " ".join(tex.split("\n"))
        tex = re.sub(r"\}(?=\})", "} ", tex)
        return re.sub(r":(?=:)", ": ", tex)

    return RENDERED_MATH_RE.sub(fix, html)
