"""Issue 5: every card renders cleanly in Anki's reviewer page, typeset by Anki's own MathJax,
on a 412 px phone screen, by day and by night (headless Chromium)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browsercheck import MediaServer, anki_web_dir, card_sides, driver, render_problems  # noqa: F401
from conftest import REPO, Project, import_apkg

from cardsmith.pipeline import Project as CardsmithProject

GOOD = r"""
## Is $\sigma(x) = \frac{1}{1+e^{-x}}$ fine?
<!-- id: fine -->

Yes:

$$\sum_{i=1}^{n} x_i$$

and ![dot](img/dot.png)

| a | b |
|---|---|
| 1 | 2 |
"""
AT = f"cards/test/a.md:{len(GOOD.lstrip().splitlines()) + 2}"  # where the card after GOOD starts


def labeller(root: Path):
    """Name a card by its cardsmith id and source line (from its GUID), else its first field."""
    project = CardsmithProject(root)
    names = {}
    for deck in project.decks:
        for note in project.prepare(deck).notes:
            names[note.guid] = f"card '{note.card_id}' ({note.shown_path}:{note.line})"

    def label_of(card) -> str:
        note = card.note()
        first = re.sub(r"<[^>]+>", "", note.fields[0])[:50]
        name = names.get(note.guid, f'note "{first}"')
        return f"{name} [card {card.ord + 1}]" if len(note.note_type()["tmpls"]) > 1 or card.ord else name

    return label_of


def render_project(root: Path, col, driver, sideways: bool = False) -> tuple[list[str], int]:
    """Build a project, import every deck into `col`, render every card; return (problems, sides).

    `sideways`: boxes that scroll sideways count as problems too (see render_problems)."""
    Project(root).build("--out", str(root / "out"))
    for package in sorted((root / "out").glob("*.apkg")):
        log = import_apkg(col, package)
        assert not log.conflicting
    sides = card_sides(col, labeller(root))
    with MediaServer(Path(col.media.dir()), anki_web_dir()) as server:
        return render_problems(driver, server, sides, sideways=sideways), len(sides)


def test_shipped_deck_renders_cleanly(tmp_path, collection, driver):
    root = tmp_path / "repo"
    for folder in ("cards", "decks", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    problems, sides = render_project(root, collection, driver, sideways=True)  # nothing scrolls on a phone
    cards = len(collection.find_cards(""))
    assert cards > 100 and sides == 4 * cards
    assert not problems, f"{len(problems)} rendering problems:\n" + "\n".join(problems)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def write(project, cards: str) -> None:
    project.write({"cards/test/a.md": GOOD + cards, "cards/test/img/dot.png": PNG})


def test_good_card_passes(project, collection, driver):
    write(project, "")
    problems, sides = render_project(project.root, collection, driver)
    assert sides == 4 and problems == []


def test_undefined_macro_fails(project, collection, driver):
    write(project, r"""
## What is $\foo x$?
<!-- id: broken-formula -->

Nothing.
""")
    problems, _ = render_project(project.root, collection, driver)
    assert problems
    assert all(p.startswith(f"card 'broken-formula' ({AT})") for p in problems), problems
    assert any("question side, night: undefined macro \\foo in \\foo x" in p for p in problems), problems
    assert len(problems) == 4  # question and answer side (the answer repeats it), day and night


def test_tex_error_fails(project, collection, driver):
    write(project, r"""
## Which bracket is missing?
<!-- id: tex-error -->

$\left( x$
""")
    problems, _ = render_project(project.root, collection, driver)
    assert problems and all("card 'tex-error'" in p and "answer side" in p for p in problems), problems
    assert any('MathJax error "Extra \\left or missing \\right"' in p for p in problems), problems


def test_missing_image_fails(project, collection, driver):
    write(project, r"""
## Where is the plot?
<!-- id: lost-image -->

![plot](img/plot.png)
""")
    project.write({"cards/test/img/plot.png": PNG + b"plot"})
    Project(project.root).build("--out", str(project.root / "out"))
    import_apkg(collection, project.root / "out" / "test.apkg")
    media = Path(collection.media.dir())
    lost = [p for p in media.iterdir() if p.name.startswith("plot-")]
    assert len(lost) == 1
    lost[0].unlink()
    sides = card_sides(collection, labeller(project.root))
    with MediaServer(media, anki_web_dir()) as server:
        problems = render_problems(driver, server, sides)
    assert problems == [f"card 'lost-image' ({AT}), answer side, {mode}: broken image {lost[0].name}"
                        for mode in ("day", "night")]


def test_overwide_inline_formula_fails(project, collection, driver):
    long_sum = " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(1, 30))
    write(project, f"""
## What does a neuron compute?
<!-- id: wide-formula -->

It computes ${long_sum}$.
""")
    problems, _ = render_project(project.root, collection, driver)
    assert problems and all("card 'wide-formula'" in p and "answer side" in p for p in problems), problems
    assert any("page is" in p and "wider than the 412 px screen" in p for p in problems), problems
    assert any("formula w_{1} x_{1}" in p and "past the 412 px screen" in p for p in problems), problems


def test_overwide_table_fails_only_if_it_widens_the_page(project, collection, driver):
    """Tables scroll inside themselves (templates/base.css), so a wide one is fine; a table whose
    note type CSS lets it widen the page is caught."""
    row = "| " + " | ".join(f"column{i}-with-a-long-heading" for i in range(12)) + " |"
    table = f"{row}\n|{'---|' * 12}\n{row}\n"
    write(project, f"""
## What is in this table?
<!-- id: wide-table -->

{table}
""")
    problems, _ = render_project(project.root, collection, driver)
    assert problems == []
    problems, _ = render_project(project.root, collection, driver, sideways=True)
    assert problems and all("card 'wide-table'" in p and "answer side" in p for p in problems), problems
    assert any('<table> "column0-with-a-long-heading' in p and "scrolls sideways" in p for p in problems), problems

    base = project.root / "templates" / "base.css"
    base.write_text(base.read_text().replace("display: block; max-width: 100%; overflow-x: auto;", ""))
    problems, _ = render_project(project.root, collection, driver)
    assert problems and all("card 'wide-table'" in p and "answer side" in p for p in problems), problems
    assert any('<table> "column0-with-a-long-heading' in p for p in problems), problems


@pytest.mark.parametrize("mode", ["day", "night"])
def test_night_mode_classes_are_anki_desktops(project, collection, driver, mode):
    write(project, "")
    Project(project.root).build("--out", str(project.root / "out"))
    import_apkg(collection, project.root / "out" / "test.apkg")
    sides = [s for s in card_sides(collection, str) if s.label.endswith(mode)]
    with MediaServer(Path(collection.media.dir()), anki_web_dir()) as server:
        assert render_problems(driver, server, sides) == []
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(47, 47, 49)" if mode == "night" else "rgb(255, 255, 255)")


# --- code on a phone: long lines wrap under a hanging indent (templates/base.css, cardsmith/codelines.py) ---

ROWS_JS = """
// For each code line of the page: where each of its rows starts, in columns from the line's box.
const [html, bodyClass] = arguments;
const done = arguments[arguments.length - 1];
document.body.className = bodyClass;
const qa = document.getElementById("qa");
qa.innerHTML = html;
const rowsOf = (line) => {
  const left = line.getBoundingClientRect().left;
  const starts = new Map();
  let column = 0;
  const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      if (/\\s/.test(node.data[i])) continue;
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      column = box.width;
      const top = Math.round(box.top);
      starts.set(top, Math.min(starts.has(top) ? starts.get(top) : Infinity, box.left));
    }
  }
  return [...starts.keys()].sort((a, b) => a - b).map((top) => Math.round((starts.get(top) - left) / column));
};
done([...qa.querySelectorAll(".cs-line")].map(rowsOf));
"""

LONG_LINE = """
## What does `weighted` return?
<!-- id: long-code -->

```python
def weighted(values, weights, bias):
    return sum(v * w for v, w in zip(values, weights)) + bias * len(values) - offset_of(values)

x = 1
```
"""


@pytest.mark.parametrize("mode", ["day", "night"])
def test_long_code_line_wraps_under_a_hanging_indent(project, collection, driver, mode):
    """A line too long for the phone continues 4 columns deeper than its own code, and nothing scrolls."""
    write(project, LONG_LINE)
    problems, _ = render_project(project.root, collection, driver, sideways=True)
    assert problems == []
    (side,) = [s for s in card_sides(collection, str) if "weighted" in s.html and "answer" in s.label
               and s.label.endswith(mode)]
    with MediaServer(Path(collection.media.dir()), anki_web_dir()) as server:
        driver.get(server.url + "/__reviewer.html")
        rows = driver.execute_async_script(ROWS_JS, side.html, side.body_class)
    assert rows[0] == [0] and rows[2] == [] and rows[3] == [0]  # short lines, the empty line
    assert len(rows[1]) >= 3 and rows[1][0] == 4 and set(rows[1][1:]) == {8}, rows


def test_code_that_cannot_wrap_still_scrolls_sideways(project, collection, driver):
    """Only spaces break a code line: a longer run of characters scrolls, and the probe reports it."""
    word = "x" * 60
    write(project, f"""
## What is this name?
<!-- id: long-name -->

```python
{word} = 1
```
""")
    problems, _ = render_project(project.root, collection, driver)
    assert problems == []
    problems, _ = render_project(project.root, collection, driver, sideways=True)
    assert problems and all("card 'long-name'" in p and "answer side" in p for p in problems), problems
    assert all(f'<pre> "{word[:20]}' in p and "scrolls sideways" in p for p in problems), problems


def test_check_and_browser_agree_on_what_code_cannot_fit(project, collection, driver):
    """cardsmith/phonefit.py's rows (42 characters, a hanging indent of 4) are the rows base.css gives.

    A word of 43 characters reaches into the box's right padding without scrolling; check counts it
    as too long (a character of margin), so the cases below are at the limit or two past it."""
    from cardsmith.commands.phonefit import unbreakable

    lines = {"fits": "x" * 42, "too-long": "x" * 44, "fits-indented": "    " + "y" * 38,
             "too-long-indented": "    " + "y" * 40, "fits-continued": "a = b + " + "z" * 38,
             "too-long-continued": "a = b + " + "z" * 40}
    write(project, "".join(f"\n## Which code is `{name}`?\n<!-- id: {name} -->\n\n```python\n{line}\n```\n"
                           for name, line in lines.items()))
    problems, _ = render_project(project.root, collection, driver, sideways=True)
    scrolling = {re.match(r"card '([a-z-]+)'", p).group(1) for p in problems}
    assert scrolling == {"too-long", "too-long-indented", "too-long-continued"}, problems
    assert {name for name, line in lines.items() if unbreakable(line)} == scrolling
    warned = [line for line in Project(project.root).run("check").output.splitlines() if "phone" in line]
    assert len(warned) == 3


def test_check_and_browser_agree_on_inline_formulas(project, collection, driver):
    """An inline formula that check says is wider than a phone's line is; one well under it is not."""
    def terms(n: int) -> str:
        return " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(1, n + 1))

    write(project, f"""
## What does a small neuron compute?
<!-- id: narrow-formula -->

${terms(5)}$

## What does a large neuron compute?
<!-- id: wide-formula -->

${terms(8)}$
""")
    problems, _ = render_project(project.root, collection, driver)
    assert problems and all("card 'wide-formula'" in p for p in problems), problems
    warned = [line for line in Project(project.root).run("check").output.splitlines() if "phone" in line]
    wide = (project.root / "cards/test/a.md").read_text().split("\n").index(f"${terms(8)}$") + 1
    assert len(warned) == 1 and warned[0].startswith(f"cards/test/a.md:{wide}: warning: inline formula"), warned


WIDTHS_JS = """
// The rendered width of each inline formula on a card (the note types' CSS: its font and size).
const [formulas, css] = arguments;
const done = arguments[arguments.length - 1];
const qa = document.getElementById("qa");
document.body.className = "card";
qa.innerHTML = "<style>" + css + "</style>" + formulas.map(() => '<div><span class="f"></span></div>').join("");
qa.querySelectorAll(".f").forEach((span, i) => { span.textContent = "\\\\(" + formulas[i] + "\\\\)"; });
MathJax.typesetPromise([qa]).then(() => done(
  [...qa.querySelectorAll(".f")].map((span) => span.querySelector("mjx-container").getBoundingClientRect().width)));
"""


def test_formula_width_estimate_matches_mathjax(driver):
    """phonefit.formula_width against Anki's MathJax on the shipped deck's inline formulas wider than 100 px."""
    from cardsmith import mathtex
    from cardsmith.commands import phonefit
    from cardsmith.notetypes import base_css

    texts = [formula.tex for path in sorted((REPO / "cards").rglob("*.md"))
             for formula in mathtex.scan(path.read_text(encoding="utf-8"))[0] if not formula.display]
    with MediaServer(REPO, anki_web_dir()) as server:
        driver.get(server.url + "/__reviewer.html")
        driver.execute_async_script("MathJax.startup.promise.then(arguments[arguments.length - 1])")
        widths = driver.execute_async_script(WIDTHS_JS, texts, base_css(REPO))
    ratios = [width / (phonefit.formula_width(tex) * phonefit.FONT_PX) for tex, width in zip(texts, widths)
              if width > 100]
    assert len(ratios) > 100
    mean = sum(ratios) / len(ratios)
    spread = (sum((r - mean) ** 2 for r in ratios) / len(ratios)) ** 0.5
    assert 0.95 < mean < 1.08 and spread < 0.1 and 0.75 < min(ratios) and max(ratios) < 1.35, (mean, spread)
