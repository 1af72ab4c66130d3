"""Math in card sources: find `$…$` / `$$…$$` structurally, and make rendered math safe for Anki.

Rendering itself is done by pymdownx.arithmatex (generic mode), which emits `\\(…\\)` and
`\\[…\\]` and never lets Markdown touch the formula. This module adds what Anki needs on top
(no newline inside a formula, no `}}` or `::` that would end a cloze deletion) and a pure-Python
scanner that finds unclosed delimiters and unbalanced braces with their line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
CODE_SPAN_RE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.S)
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
    """Text with fenced code blocks and inline code spans blanked out."""
    return CODE_SPAN_RE.sub(_blank, FENCE_RE.sub(_blank, text))


def scan(text: str) -> tuple[list[Formula], list[MathIssue]]:
    """Find the formulas in Markdown text the way arithmatex (smart dollar) reads them."""
    masked = mask_code(text).replace("\\\\", "  ").replace("\\$", "  ")
    formulas: list[Formula] = []
    issues: list[MathIssue] = []
    pos = 0
    while True:
        start = masked.find("$", pos)
        if start < 0:
            break
        line = masked.count("\n", 0, start)
        if masked.startswith("$$", start):
            end = masked.find("$$", start + 2)
            if end < 0:
                issues.append(MathIssue(line, "unclosed display math: `$$` has no closing `$$`"))
                break
            line_start = masked.rfind("\n", 0, start) + 1
            line_end = masked.find("\n", end)
            after = masked[end + 2:] if line_end < 0 else masked[end + 2:line_end]
            if masked[line_start:start].strip() or after.strip():
                issues.append(MathIssue(line, "display math `$$…$$` must stand on its own lines "
                                              "(use `$…$` for math inside a sentence)"))
            formulas.append(Formula(line, masked[start + 2:end], True))
            pos = end + 2
            continue
        following = masked[start + 1:start + 2]
        match = re.compile(r"\$(?!\s)((?:[^$])+?)(?<!\s)\$(?!\$)").match(masked, start)
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
        fence_match = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
        if fence is None and not in_math and fence_match:
            fence = fence_match.group(1)
            if out and out[-1].strip():
                out.append("")  # a fence right under a paragraph line would end up inside it
        elif fence is not None:
            if stripped.startswith(fence):
                fence = None
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
