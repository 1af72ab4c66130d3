"""What another Markdown engine would cost: render the benchmark's cards with each engine.

    python -m bench.alternative [N]   (needs `pip install cmarkgfm mistune`; not a cardsmith dependency)

Engines: cardsmith's renderer (Python-Markdown + pymdown-extensions + Pygments, as shipped);
cmark-gfm (C, via cmarkgfm) and mistune (pure Python), each with the same math protection
(formulas found by cardsmith's scanner, swapped for placeholders, put back after) and Pygments
for fenced code, so that every engine does the work a card needs. Prints ms of CPU per card.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

from bench.generate import generate
from cardsmith import mathtex
from cardsmith.notetypes import load_notetypes
from cardsmith.parse import parse_file
from cardsmith.boundary import Boundary
from cardsmith.render import Renderer
from cardsmith.resolve import field_texts

FENCE_RE = re.compile(r"^```(\w+)\n(.*?)^```\s*$", re.M | re.S)
FORMATTER = HtmlFormatter(cssclass="highlight")


def protect(text: str) -> tuple[str, list[str]]:
    """Swap each formula for a placeholder the engine leaves alone; highlight code with Pygments."""
    saved: list[str] = []

    def code(match: re.Match) -> str:
        saved.append(highlight(match.group(2), get_lexer_by_name(match.group(1)), FORMATTER))
        return f"\n\nCSPH{len(saved) - 1}X\n\n"

    text = FENCE_RE.sub(code, text)
    formulas, _ = mathtex.scan(text)
    for formula in sorted(formulas, key=lambda f: -len(f.tex)):
        delimiter = "$$" if formula.display else "$"
        source = f"{delimiter}{formula.tex}{delimiter}"
        if source in text:
            saved.append(("\\[" if formula.display else "\\(") + formula.tex + ("\\]" if formula.display else "\\)"))
            text = text.replace(source, f"CSPH{len(saved) - 1}X", 1)
    return text, saved


def restore(html: str, saved: list[str]) -> str:
    return re.sub(r"(?:<p>)?CSPH(\d+)X(?:</p>)?", lambda m: saved[int(m.group(1))], html)


def protected(engine):
    """An engine wrapped in math protection and Pygments highlighting."""
    def render(text: str) -> str:
        body, saved = protect(text)
        return restore(engine(body), saved)
    return render


def timed(render, texts: list[str]) -> float:
    started = time.process_time()
    for text in texts:
        render(text)
    return (time.process_time() - started) * 1000 / (len(texts) / 2)


def main(count: int) -> None:
    import cmarkgfm
    import mistune

    root = Path(tempfile.mkdtemp()) / "project"
    generate(root, count)
    notetypes = load_notetypes(root)
    cards = [n for path in sorted((root / "cards").rglob("*.md")) for n in parse_file(path, str(path)).notes]
    texts = [field.text for card in cards for field in field_texts(card, notetypes[card.note_type])[0]]
    renderer = Renderer(Boundary(root))
    mist = mistune.create_markdown(plugins=["table"])
    engines = {
        "Python-Markdown + pymdownx (cardsmith)": lambda t: renderer._md.reset().convert(mathtex.separate_display_math(t)),
        "cmark-gfm (C) + math protection + Pygments": protected(
            lambda t: cmarkgfm.github_flavored_markdown_to_html(t, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)),
        "mistune (Python) + math protection + Pygments": protected(mist),
        "math protection + Pygments alone": lambda t: protect(t),
    }
    print(f"{len(cards)} cards ({len(texts)} Markdown fields), ms of CPU per card:")
    for name, render in engines.items():
        print(f"  {name}: {timed(render, texts):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
