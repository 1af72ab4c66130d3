"""Issue 3: `cardsmith ids` writes missing ids and changes nothing else."""

from __future__ import annotations

from cardsmith.ids import slug_for

SOURCE = (
    "---\ntags: [t]\n---\n\n"
    "## What is a $\\tanh$ unit, really?\n\nAn activation.\n\n"
    "## What is dropout?\n<!-- tags: level::basic -->\n\nZeroing units at random.\n\n"
    "```python\n## not a heading\n```\n\n"
    "## What is dropout?\n<!-- id: what-is-dropout -->\n\nAlready has an id.\n\n"
    "## Last one\nNo blank line, no id."
)
EXPECTED = (
    "---\ntags: [t]\n---\n\n"
    "## What is a $\\tanh$ unit, really?\n<!-- id: what-is-a-unit-really -->\n\nAn activation.\n\n"
    "## What is dropout?\n<!-- id: what-is-dropout-2; tags: level::basic -->\n\nZeroing units at random.\n\n"
    "```python\n## not a heading\n```\n\n"
    "## What is dropout?\n<!-- id: what-is-dropout -->\n\nAlready has an id.\n\n"
    "## Last one\n<!-- id: last-one -->\nNo blank line, no id."
)


def test_ids_adds_only_missing_ids(project):
    project.write({"cards/test/a.md": ""})
    path = project.root / "cards/test/a.md"
    path.write_bytes(SOURCE.encode())
    result = project.run("ids")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "cards/test/a.md:6: added id 'what-is-a-unit-really'",
        "cards/test/a.md:11: added id 'what-is-dropout-2'",
        "cards/test/a.md:25: added id 'last-one'",
        "3 ids added.",
    ]
    assert path.read_bytes() == EXPECTED.encode()
    again = project.run("ids")
    assert again.output.strip() == "0 ids added."
    assert path.read_bytes() == EXPECTED.encode()
    project.build()


def test_ids_keeps_crlf_line_endings(project):
    project.write({"cards/test/a.md": ""})
    path = project.root / "cards/test/a.md"
    path.write_bytes(b"## One?\r\n\r\nAnswer.\r\n")
    project.run("ids")
    assert path.read_bytes() == b"## One?\r\n<!-- id: one -->\r\n\r\nAnswer.\r\n"


def test_slugs_are_unique_in_the_deck():
    taken = {"softmax"}
    assert slug_for("Softmax?", taken) == "softmax-2"
    assert slug_for("Softmax!", taken) == "softmax-3"
    assert slug_for("$x$", taken) == "card"
    assert slug_for("The {{c1::sigmoid}} squashes", taken) == "the-sigmoid-squashes"
