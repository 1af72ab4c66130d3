"""Issue 5: `cardsmith preview` writes an offline HTML site of a deck that works in a real browser."""

from __future__ import annotations

import shutil
import time

from browsercheck import driver  # noqa: F401
from conftest import REPO, Project

from cardsmith.commands.preview import cloze_side

CARDS = r"""
---
tags: [category::basics]
---

## What is $\sigma(x)$?
<!-- id: sigmoid; tags: level::basic -->

$\sigma(x) = \frac{1}{1+e^{-x}}$ ![dot](img/dot.png)

## What does this print?
<!-- id: code-card; tags: level::advanced category::coding -->

```python
print("hi")
```

---

It prints `hi`.

## Softmax is {{c1::$\frac{e^{z_i} }{\sum_j e^{z_j} }$::a ratio}}.
<!-- id: softmax-cloze; type: cloze -->
"""
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def wait_for(driver, script: str, seconds: float = 60):
    """Poll a JS expression until it is truthy; return its value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return {script}")
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {script}")


def shown_ids(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('.pv-entry:not([hidden])')].map(e => e.id)")


def open_preview(driver, index) -> None:
    driver.get(index.as_uri())
    assert wait_for(driver, "document.body.dataset.typeset") == "done"


def errors_in_console(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_cloze_sides():
    text = r"Softmax {{c1::\(x\)::a ratio}} and {{c2::y}}"
    assert cloze_side(text, False) == ('Softmax <span class="cloze" data-cloze="1">[a ratio]</span> and '
                                       '<span class="cloze" data-cloze="2">[…]</span>')
    assert cloze_side(text, True) == ('Softmax <span class="cloze" data-cloze="1">\\(x\\)</span> and '
                                      '<span class="cloze" data-cloze="2">y</span>')


def test_preview_of_a_small_deck(project, driver):
    project.write({"cards/test/basics.md": CARDS, "cards/test/img/dot.png": PNG})
    result = project.run("preview")
    assert result.exit_code == 0, result.output
    assert result.output == "Test Deck: 3 cards, 3 notes, 1 media -> dist/preview/index.html\n"
    site = project.dist / "preview"
    assert (site / "_anki" / "js" / "vendor" / "mathjax" / "tex-chtml-full.js").is_file()
    page = (site / "index.html").read_text(encoding="utf-8")
    assert ".nightMode .highlight" in page  # the note types' CSS, code colours for night mode included
    assert 'src="http' not in page and 'href="http' not in page  # offline: nothing from the network

    driver.get_log("browser")  # start with an empty log
    open_preview(driver, site / "index.html")
    assert errors_in_console(driver) == []
    assert shown_ids(driver) == ["card-sigmoid", "card-code-card", "card-softmax-cloze"]
    # Math is typeset by MathJax with no error, images load, code is highlighted.
    assert driver.execute_script("return document.querySelectorAll('mjx-container').length") == 3  # question, answer, revealed cloze
    assert driver.execute_script("return document.querySelectorAll('mjx-merror').length") == 0
    assert driver.execute_script("return [...document.images].every(i => i.naturalWidth > 0)")
    assert driver.execute_script("return document.querySelectorAll('.highlight span').length") > 0
    assert driver.execute_script("return document.querySelector('.cloze').textContent") == "[a ratio]"

    search = driver.find_element("id", "pv-search")
    search.send_keys("print")
    assert shown_ids(driver) == ["card-code-card"]
    assert driver.find_element("id", "pv-status").text == "1 of 3 notes shown"
    search.clear()
    search.send_keys("sigma")  # the TeX source is searchable
    assert shown_ids(driver) == ["card-sigmoid"]
    search.clear()
    search.send_keys(" ")
    assert len(shown_ids(driver)) == 3

    driver.execute_script("const t = document.getElementById('pv-tag'); t.value = 'category::coding';"
                          "t.dispatchEvent(new Event('change'))")
    assert shown_ids(driver) == ["card-code-card"]
    driver.execute_script("const t = document.getElementById('pv-tag'); t.value = 'level';"
                          "t.dispatchEvent(new Event('change'))")  # a tag matches its children
    assert shown_ids(driver) == ["card-sigmoid", "card-code-card"]

    night = driver.find_element("id", "pv-night")
    background = "return getComputedStyle(document.querySelector('.card')).backgroundColor"
    assert driver.execute_script(background) == "rgb(255, 255, 255)"
    night.click()
    assert driver.execute_script("return document.body.className") == "nightMode night_mode"
    assert driver.execute_script(background) == "rgb(47, 47, 49)"
    assert errors_in_console(driver) == []


def test_preview_refuses_to_replace_a_foreign_folder(project):
    project.write({"cards/test/basics.md": CARDS, "cards/test/img/dot.png": PNG, "dist/preview/mine.txt": "x"})
    result = project.run("preview")
    assert result.exit_code == 1
    assert "not a preview folder written by cardsmith" in result.output
    assert (project.dist / "preview" / "mine.txt").exists()


def test_preview_of_the_shipped_deck(tmp_path, driver):
    root = tmp_path / "repo"
    for folder in ("cards", "decks", "templates"):
        shutil.copytree(REPO / folder, root / folder)
    result = Project(root).run("preview")
    assert result.exit_code == 0, result.output
    driver.get_log("browser")
    open_preview(driver, root / "dist" / "preview" / "index.html")
    assert errors_in_console(driver) == []
    assert driver.execute_script("return document.querySelectorAll('mjx-merror').length") == 0
    assert driver.execute_script("return document.querySelectorAll('mjx-container').length") > 300
    assert driver.execute_script("return [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 412


HOSTILE = """
## Does anything run?
<!-- id: hostile -->

<script>(window.ran = window.ran || []).push("script")</script>

<details open ontoggle="(window.ran = window.ran || []).push('ontoggle')"><summary>s</summary>x</details>
<svg onload="(window.ran = window.ran || []).push('svg')"></svg>
<a id="js-link" href="javascript:(window.ran = window.ran || []).push('link')">link</a>
<iframe srcdoc="<script>(parent.ran = parent.ran || []).push('frame')</script>"></iframe>

## Is the page's own script still working?
<!-- id: benign -->

Yes, $x^2$.
"""


def ran(driver):
    driver.find_element("id", "js-link").click()
    time.sleep(0.5)  # give every handler its chance (a toggle event is queued, not immediate)
    return driver.execute_script("return window.ran || []")


def test_preview_runs_no_script_from_a_card_unless_allowed(project, driver):
    project.write({"cards/test/hostile.md": HOSTILE})
    result = project.run("preview")
    assert result.exit_code == 0, result.output
    index = project.dist / "preview" / "index.html"
    open_preview(driver, index)
    assert ran(driver) == []
    assert driver.execute_script("return document.querySelectorAll('mjx-container').length") == 1
    driver.find_element("id", "pv-search").send_keys("page's own")
    assert shown_ids(driver) == ["card-benign"]

    result = project.run("preview", "--allow-scripts")
    assert result.exit_code == 0, result.output
    open_preview(driver, index)
    assert {"script", "ontoggle", "svg", "link"} <= set(ran(driver))


def test_preview_never_deletes_what_it_did_not_write(project, tmp_path):
    project.write({"cards/test/basics.md": CARDS, "cards/test/img/dot.png": PNG,
                   "dist/preview.tmp/mine.txt": "mine", "dist/site.tmp/mine.txt": "mine"})
    assert project.run("preview").exit_code == 0
    assert project.run("preview", "--out", str(project.dist / "site")).exit_code == 0
    assert project.run("preview").exit_code == 0  # replaces its own site
    for name in ("preview", "site"):
        assert (project.dist / f"{name}.tmp" / "mine.txt").read_text() == "mine"
        assert (project.dist / name / "index.html").is_file()
    assert sorted(p.name for p in project.dist.iterdir()) == ["preview", "preview.tmp", "site", "site.tmp"]


def test_check_warns_about_scripts_and_event_handlers(project):
    project.write({"cards/test/hostile.md": HOSTILE})
    result = project.run("check")
    assert result.exit_code == 0, result.output
    tail = ": Anki runs it whenever the card is shown (`cardsmith preview` only with --allow-scripts)"
    assert result.output.splitlines() == [
        # the same problem twice in one card is one message (errors.collapse_repeats)
        "cards/test/hostile.md:4: warning: `<script>` in a card" + tail + " (and 1 more like it in this card)",
        "cards/test/hostile.md:6: warning: event handler `ontoggle=` in a card" + tail,
        "cards/test/hostile.md:7: warning: event handler `onload=` in a card" + tail,
        "cards/test/hostile.md:8: warning: `javascript:` link in a card" + tail,
        "0 errors, 4 warnings.",
    ]
