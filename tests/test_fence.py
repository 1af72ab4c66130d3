"""Issue 12, item 9 (one code-fence rule): parse.track_fence decides what is code, for the parser and the math."""

from __future__ import annotations

import re
from pathlib import Path

from cardsmith import mathtex
from cardsmith.boundary import Boundary
from cardsmith.parse import parse_text, track_fence
from cardsmith.render import Renderer
from conftest import question_and_answer

# A line like ```python inside a ``` block is code, not a closing fence (it has an info string).
FENCED = "Before:\n```text\n```python\n$$\nx\n$$\n```\nAfter $y$."


def fenced_lines(text: str) -> list[bool]:
    """Per line: inside a fence (the fence lines included), by the parser's rule."""
    fence, result = None, []
    for line in text.split("\n"):
        opened_by = fence
        fence, opened = track_fence(line, fence)
        result.append(opened or opened_by is not None)
    return result


def test_the_math_stages_use_the_parser_fence_rule():
    assert fenced_lines(FENCED) == [False, True, True, True, True, True, True, False]
    masked = mathtex.mask_code(FENCED).split("\n")
    assert [not line.strip() for line in masked] == fenced_lines(FENCED)
    # Nothing is inserted inside the code block (a blank line there would change the code).
    assert mathtex.separate_display_math(FENCED) == FENCED.replace("Before:\n", "Before:\n\n")
    formulas, issues = mathtex.scan(FENCED)
    assert [f.tex for f in formulas] == ["y"] and not issues


def test_code_with_an_inner_fence_line_renders_unchanged(tmp_path: Path):
    rendered, problems = Renderer(Boundary(tmp_path)).render(question_and_answer(tmp_path / "a.md", "Q?", FENCED))
    assert not problems
    code = re.sub(r"</?span[^>]*>", "", rendered.fields[1])  # one span per code line (codelines.py)
    assert "```python\n$$\nx\n$$\n</code>" in code
    assert "\\[" not in rendered.fields[1] and "After \\(y\\)." in rendered.fields[1]  # only $y$ is math


def test_the_parser_splits_cards_by_the_same_rule():
    text = "## Q?\n<!-- id: q -->\n\n```\n```python\n## not a card\n```\n\nA.\n"
    parsed = parse_text(text, Path("a.md"), "a.md")
    assert [n.card_id for n in parsed.notes] == ["q"] and not parsed.problems
