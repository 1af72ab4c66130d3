"""Bad input: every problem as `path:line: message`, exit 1, no traceback, previous .apkg intact."""

from __future__ import annotations

import pytest

GOOD = """
## What is a tensor?
<!-- id: tensor -->

An n-dimensional array.
"""

CASES = [
    ("bad deck YAML", {"decks/test.yaml": "name: [unclosed\nid: 1\n"},
     ["decks/test.yaml:2: invalid YAML: expected ',' or ']', but got ':'"]),
    ("unknown deck key", {"decks/test.yaml": "name: T\nid: 1234567890\ncards: [test/*.md]\ncolour: red\n"},
     ["decks/test.yaml:4: unknown key 'colour' (valid keys: name, id, description, cards, subdecks, media, missing_media)"]),
    ("deck id not an integer", {"decks/test.yaml": "name: T\nid: abc\ncards: [test/*.md]\n"},
     ["decks/test.yaml:2: 'id' must be an integer"]),
    ("missing id comment", {"cards/test/a.md": "## What is a tensor?\n\nAn array.\n"},
     ["cards/test/a.md:1: card has no id comment: run `cardsmith ids` (or add `<!-- id: some-slug -->` on the line after the heading)"]),
    ("comment without id", {"cards/test/a.md": "## Q?\n<!-- tags: x -->\n\nA.\n"},
     ["cards/test/a.md:2: id comment has no 'id'"]),
    ("invalid id", {"cards/test/a.md": "## Q?\n<!-- id: Not A Slug -->\n\nA.\n"},
     ["cards/test/a.md:2: invalid id 'Not A Slug': use lower-case letters, digits, '-' and '_' (at most 80)"]),
    ("duplicate id", {"cards/test/a.md": GOOD, "cards/test/b.md": "\n## Again?\n<!-- id: tensor -->\n\nYes.\n"},
     ["cards/test/b.md:2: duplicate id 'tensor' (first used at cards/test/a.md:2)"]),
    ("unclosed display math", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\nText\n\n$$\nx + y\n"},
     ["cards/test/a.md:6: unclosed display math: `$$` has no closing `$$`"]),
    ("unclosed inline math", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\nThe value $x_1 is open.\n"},
     ["cards/test/a.md:4: unclosed inline math: `$` has no closing `$` (write `\\$` for a dollar sign)"]),
    ("unbalanced braces", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n$\\frac{1}{2$\n"},
     ["cards/test/a.md:4: unbalanced braces in formula `\\frac{1}{2`: 1 `{` not closed"]),
    ("unclosed code fence", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n```python\nx = 1\n"},
     ["cards/test/a.md:4: unclosed code fence"]),
    ("missing image", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\nSee\n![plot](img/none.png)\n"},
     ["cards/test/a.md:5: image not found: img/none.png"]),
    ("unknown note type", {"cards/test/a.md": "## Q?\n<!-- id: q; type: fancy -->\n\nA.\n"},
     ["cards/test/a.md:2: unknown note type 'fancy' (known: basic, basic-reversed, cloze)"]),
    ("empty answer", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n## R?\n<!-- id: r -->\n\nA.\n"},
     ["cards/test/a.md:3: empty answer"]),
    ("empty question", {"cards/test/a.md": "## \n<!-- id: q -->\n\nA.\n"}, ["cards/test/a.md:1: empty question"]),
    ("cloze without deletion", {"cards/test/a.md": "## Plain text.\n<!-- id: q; type: cloze -->\n"},
     ["cards/test/a.md:1: cloze card has no deletion: mark the hidden part as {{c1::...}}"]),
    ("bad tag", {"cards/test/a.md": "---\ntags: [\"a b\"]\n---\n" + GOOD},
     ["cards/test/a.md:2: invalid tag 'a b': tags cannot contain spaces or quotes"]),
    ("unknown front matter key", {"cards/test/a.md": "---\ndeck: X\n---\n" + GOOD},
     ["cards/test/a.md:2: unknown front matter key 'deck' (valid keys: subdeck, tags, type)"]),
    ("bad front matter YAML", {"cards/test/a.md": "---\ntags: [a\n---\n" + GOOD},
     ["cards/test/a.md:2: invalid YAML: expected ',' or ']', but got '<stream end>'"]),
    ("unclosed front matter", {"cards/test/a.md": "---\ntags: [a]\n" + GOOD},
     ["cards/test/a.md:1: front matter opened with `---` is never closed"]),
    ("binary file", {"cards/test/a.md": b"\x89PNG\r\n\x1a\n\xff\xfe\x00"},
     ["cards/test/a.md:1: not valid UTF-8 text (is this a binary file?)"]),
    ("text before first card", {"cards/test/a.md": "Some intro.\n" + GOOD},
     ["cards/test/a.md:1: text before the first card; a card starts with a `## ` heading"]),
    ("display math inside a sentence", {"cards/test/a.md": "## Q?\n<!-- id: q -->\n\nSo $$x$$ is.\n"},
     ["cards/test/a.md:4: display math `$$…$$` must stand on its own lines (use `$…$` for math inside a sentence)"]),
]


@pytest.mark.parametrize("files,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_reported_with_location(project, files, expected):
    project.write({"cards/test/a.md": GOOD})
    project.build()
    apkg = project.dist / "test.apkg"
    before = apkg.read_bytes()
    project.write(files)
    result = project.run("build")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[:-1] == expected
    assert lines[-1].endswith("error; nothing was written.") or lines[-1].endswith("errors; nothing was written.")
    assert apkg.read_bytes() == before
    assert not [p for p in project.dist.iterdir() if p.name.endswith(".tmp")]


def test_all_problems_are_reported_not_just_the_first(project):
    project.write({"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n## R?\n\nA.\n\n## S?\n<!-- id: s; type: nope -->\n\nA.\n"})
    result = project.run("build")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "cards/test/a.md:3: empty answer",
        "cards/test/a.md:4: card has no id comment: run `cardsmith ids` (or add `<!-- id: some-slug -->` on the line after the heading)",
        "cards/test/a.md:9: unknown note type 'nope' (known: basic, basic-reversed, cloze)",
        "3 errors; nothing was written.",
    ]


def test_unwritable_output_is_a_message_not_a_traceback(project):
    """The machine's problems (a file where the output folder should be, a full disk) get one clear line."""
    project.write({"cards/test/a.md": GOOD, "dist": "a file, not a folder\n"})
    result = project.run("build")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines == [f"{project.root / 'dist'}: File exists"]
    assert not (project.root / "decks" / "test.lock").exists()  # nothing half-done
