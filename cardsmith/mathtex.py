"""Math in card sources: find `$…$` / `$$…$$` structurally, and make rendered math safe for Anki; keep
Anki's own LaTeX (`[latex]…[/latex]`, `[$]…[/$]`, `[$$]…[/$$]`, made into images by Anki desktop) as written.

Rendering itself is done by pymdownx.arithmatex (generic mode), which emits `\\(…\\)` and
`\\[…\\]` and never lets Markdown touch the formula. This module adds what Anki needs on top
(no newline inside a formula, no `}}` or `::` that would end a cloze deletion) and a pure-Python
scanner that finds unclosed delimiters and unbalanced braces with their line numbers.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

from .parse import FENCE_RE, code_lines, track_fence

# Anki's LaTeX, as Anki finds it (rslib/src/latex.rs).
LATEX_RE = re.compile(r"\[latex\](.+?)\[/latex\]|\[\$\](.+?)\[/\$\]|\[\$\$\](.+?)\[/\$\$\]", re.S | re.I)
LATEX_MARK = "\ue000{}\ue001"  # a placeholder Markdown passes through as text (private-use characters)
LATEX_MARK_RE = re.compile("\ue000(\\d+)\ue001")
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
    """A formula of a text: its line within the text, its TeX, its kind, and where it is (delimiters included)."""

    offset: int
    tex: str
    display: bool
    start: int = 0
    end: int = 0


def _blank(match: re.Match) -> str:
    """Replace code with spaces, keeping newlines so that line numbers stay right."""
    return re.sub(r"[^\n]", " ", match.group(0))


def mask_code(text: str) -> str:
    """Text with fenced code blocks (the parser's fence rule) and inline code spans blanked out."""
    lines = text.split("\n")
    for index, _ in code_lines(lines):  # the fence lines themselves, and everything between
        lines[index] = " " * len(lines[index])
    return CODE_SPAN_RE.sub(_blank, "\n".join(lines))


def mask_latex(text: str) -> str:
    """Text with Anki's LaTeX blanked out (newlines kept): it is not `$` math."""
    return LATEX_RE.sub(_blank, text) if "[" in text else text


def protect_latex(text: str) -> tuple[str, list[str]]:
    """Markdown text with Anki's LaTeX outside code replaced by placeholders, and the LaTeX they stand for."""
    if "[" not in text:
        return text, []
    masked = mask_code(text)
    spans: list[str] = []
    parts, position = [], 0
    for match in LATEX_RE.finditer(masked):
        spans.append(text[match.start():match.end()])
        parts += [text[position:match.start()], LATEX_MARK.format(len(spans) - 1)]
        position = match.end()
    return "".join(parts) + text[position:], spans


def restore_latex(html_text: str, spans: list[str]) -> str:
    """Put Anki's LaTeX back into the HTML, its `<`, `>` and `&` escaped (Anki unescapes them for LaTeX)."""
    if not spans:
        return html_text
    return LATEX_MARK_RE.sub(lambda m: html.escape(spans[int(m.group(1))], quote=False), html_text)


def scan(text: str) -> tuple[list[Formula], list[MathIssue]]:
    """Find the formulas in Markdown text the way arithmatex (smart dollar) reads them.

    Linear in the text: line numbers come from one list of line starts, never from counting again.
    """
    masked = mask_latex(mask_code(text)).replace("\\\\", "  ").replace("\\$", "  ")
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
            formulas.append(Formula(line, masked[start + 2:end], True, start, end + 2))
            pos = end + 2
            continue
        following = masked[start + 1:start + 2]
        match = INLINE_MATH_RE.match(masked, start)
        if match and "\n\n" not in match.group(1).replace(" ", ""):
            tex = match.group(1)
            formulas.append(Formula(line, tex, False, start, match.end()))
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


def mask_math(text: str) -> str:
    """Text with every formula blanked (newlines kept): what is left is Markdown, cloze markup and text."""
    formulas, _ = scan(text)
    for formula in reversed(formulas):
        text = text[:formula.start] + _blank_text(text[formula.start:formula.end]) + text[formula.end:]
    return text


def _blank_text(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


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
