"""Issue 12, item 5: hostile input costs bounded time and memory and gets one clear message per problem.

The slow attacks run the CLI in a subprocess with a generous timeout and a memory limit: each took
minutes (or gigabytes) before, and must now end well inside the bound, on any machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from cardsmith.parse import MAX_CARD_CHARS
from cardsmith.yamlfile import ALIAS_BUDGET, ALIAS_TEXT_BUDGET

TIMEOUT = 60  # seconds; every case below takes a few at most on a shared laptop core
MEMORY = 1 << 30  # bytes of address space


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def cardsmith(root: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the CLI as a user would, bounded in time and memory."""
    return subprocess.run([sys.executable, "-m", "cardsmith", args[0], "--root", str(root), *args[1:]],
                          capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=limited,
                          env={**os.environ, "CARDSMITH_JOBS": "1"})


# A "billion laughs": nine levels of nine aliases each would build 9**9 values.
BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
               for prev, name in zip([""] + list("abcdefgh"), "abcdefghi"))
BOMB_MESSAGE = (f"invalid YAML: aliases of the anchor on this line (and others) expand to more than "
                f"{ALIAS_BUDGET:,} values or {ALIAS_TEXT_BUDGET:,} characters: an alias bomb?")


@pytest.mark.parametrize("where", ["deck", "notetype", "front matter"])
def test_yaml_alias_bomb_is_refused_fast(project, where):
    project.write({"cards/test/a.md": "## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    if where == "deck":
        project.write({"decks/test.yaml": BOMB})
        expected = "decks/test.yaml:4"
    elif where == "notetype":
        project.write({"templates/basic/notetype.yaml": BOMB})
        expected = "templates/basic/notetype.yaml:4"
    else:
        project.write({"cards/test/a.md": "---\n" + BOMB + "---\n## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
        expected = "cards/test/a.md:5"
    for command in ("check", "build"):
        result = cardsmith(project.root, command)
        assert result.returncode == 1, result.stderr
        assert f"{expected}: {BOMB_MESSAGE}" in result.stderr.splitlines(), result.stderr
        assert "Traceback" not in result.stderr


def test_yaml_aliases_of_a_long_string_are_refused_fast(project):
    """Few aliases of one long string: 4,000 copies of 100 KB took 24 s and 1.6 GB before."""
    tags = "tags: [&a " + "x" * 100_000 + ", " + ", ".join(["*a"] * 4000) + "]\n"
    project.write({"cards/test/a.md": "---\n" + tags + "---\n## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    for command in ("check", "build"):
        result = cardsmith(project.root, command)
        assert result.returncode == 1, result.stderr
        assert f"cards/test/a.md:2: {BOMB_MESSAGE}" in result.stderr.splitlines(), result.stderr


def test_yaml_aliases_within_the_budget_still_work(project):
    project.write({"decks/test.yaml": "name: &n Test Deck\nid: 1234567890\ncards: &c [test/*.md]\n",
                   "cards/test/a.md": "---\ntags: &t [a, b]\n---\n## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    assert "1 card, 1 note" in project.build().output


def question(card_id: str) -> str:
    return f"What does the {card_id} card hold?"


def card(body: str, card_id: str = "big") -> str:
    return f"## {question(card_id)}\n<!-- id: {card_id} -->\n\n{body}\n"


def test_cards_that_rendered_in_quadratic_time_render_fast(project):
    """Just under the size limit: 19,000 `[` alone took about a minute (8,000 took 8.7 s)."""
    bodies = {"brackets": "[" * 19_000, "links": "[x](" * 4_900, "images": "![" * 9_900, "refs": "[a][" * 4_900,
              "nested": "[[]" * 6_300, "escaped-dollars": "\\$" * 9_900, "formulas": "$x$ " * 4_900}
    project.write({f"cards/test/{name}.md": card(body, name) for name, body in bodies.items()})
    assert max(len(body) for body in bodies.values()) < MAX_CARD_CHARS
    result = cardsmith(project.root, "build")
    assert result.returncode == 0, result.stderr
    assert "7 cards, 7 notes" in result.stdout


def test_unclosed_html_start_tags_render_fast(project):
    """Python-Markdown's HTML block parser scanned from every `<` of an unclosed start tag to the end of the card:
    19,900 characters of `<p ` took 4.7 s, 30 such cards about 100 s. The TIMEOUT bounds the whole build."""
    units = ["<p ", "<a\t", "<a/", "<p\n", "*<p ", "<a b=", "<a b='", "<a x='>' ", "<a href='x' ", "<http://"]
    bodies = {f"tags-{number}": unit * (19_900 // len(unit)) for number, unit in enumerate(units)}
    bodies.update({f"more-{number}": "<p " * 6_600 for number in range(20)})
    project.write({f"cards/test/{name}.md": card(body, name) for name, body in bodies.items()})
    assert max(len(body) + len(question(name)) for name, body in bodies.items()) < MAX_CARD_CHARS
    result = cardsmith(project.root, "build", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert "30 cards, 30 notes" in result.stdout


def test_a_start_tag_is_looked_for_within_its_first_thousand_characters(tmp_path):
    """The bound that keeps HTML blocks linear (render.BoundedTags): a start tag up to MAX_TAG_LENGTH characters
    starts an HTML block, a longer one does not (it stays a tag, inside a paragraph: the inline HTML pattern is
    linear)."""
    from conftest import question_and_answer

    from cardsmith.boundary import Boundary
    from cardsmith.render import MAX_TAG_LENGTH, Renderer

    renderer = Renderer(Boundary(tmp_path))
    for length, is_tag in ((MAX_TAG_LENGTH, True), (MAX_TAG_LENGTH + 1, False)):
        tag = '<div title="' + "x" * (length - len('<div title="">')) + '">'
        assert len(tag) == length
        answer = f"{tag}\nboxed\n</div>\n\n" + "<p " * 400  # long enough for the bound to apply
        rendered, problems = renderer.render(question_and_answer(tmp_path / "a.md", "Q?", answer))
        assert not problems
        assert rendered.fields[1].startswith(tag + "\nboxed\n</div>" if is_tag else "<p>" + tag), rendered.fields[1][:80]


@pytest.mark.parametrize("unit", ["[", "\\$", "$x$ ", "$"])
def test_a_card_over_the_size_limit_is_refused_in_one_line(project, unit):
    body = unit * (100_000 // len(unit))
    project.write({"cards/test/a.md": card(body)})
    length = len(question("big")) + len(body.strip())
    for command in ("check", "build"):
        result = cardsmith(project.root, command)
        assert result.returncode == 1
        assert result.stderr.splitlines()[0] == (f"cards/test/a.md:1: card is {length:,} characters long, over the "
                                                 f"limit of {MAX_CARD_CHARS:,}: split it into several cards")
        assert len(result.stderr.splitlines()) == 2  # and the count of errors


def test_the_math_scanner_is_linear():
    """mathtex.scan on 1 MB of formulas (it counted lines from the start at every `$`: minutes)."""
    code = "from cardsmith import mathtex; f, i = mathtex.scan('$x$ ' * 250_000 + '\\n$$a$$ b'); print(len(f), len(i))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT,
                            preexec_fn=limited)
    assert result.stdout.split() == ["250001", "1"], result.stderr


def test_one_message_per_problem_and_card(project):
    """Thousands of the same mistake in one card are one line, with their count; other cards keep theirs."""
    project.write({"cards/test/a.md": card("$" * 12_000 + "\n\n" + "\\(x\\) " * 1_000)
                   + card("$$a$$ b\n\n\\(y\\)", "other")})
    display = "display math `$$…$$` must stand on its own lines (use `$…$` for math inside a sentence)"
    by_hand = ("warning: `\\(` typed by hand: write inline math as `$…$` (only `$` math is checked; for a literal "
               "`(` drop the backslash)")
    assert project.run("check").output.splitlines() == [
        f"cards/test/a.md:4: {display} (and 2,999 more like it in this card)",
        f"cards/test/a.md:6: {by_hand} (and 999 more like it in this card)",
        f"cards/test/a.md:10: {display}",
        f"cards/test/a.md:12: {by_hand}",
        "2 errors, 2 warnings.",
    ]


def test_deeply_nested_markdown_is_an_error_not_a_traceback(project):
    project.write({"cards/test/a.md": card("- " * 9_000 + "x")})
    for command in ("check", "build"):
        result = project.run(command)
        assert result.exit_code == 1
        assert result.output.splitlines()[0] == ("cards/test/a.md:4: nested too deeply to render (lists or quotes "
                                                 "inside each other hundreds of levels deep)")


def test_a_card_file_name_that_is_not_utf8(project):
    project.write({"cards/test/a.md": card("An array.", "tensor")})
    name = os.fsencode(project.root / "cards" / "test") + b"/caf\xe9.md"
    with open(name, "wb") as file:
        file.write(card("Coffee.", "coffee").encode())
    for command in ("check", "build"):
        result = project.run(command)
        assert result.exit_code == 1
        assert result.output.splitlines()[0] == "cards/test/caf\\xe9.md:1: file name is not valid UTF-8: rename the file"
    os.rename(name, os.fsencode(project.root / "cards" / "test" / "café.md"))
    assert "2 cards, 2 notes" in project.build().output


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "folder"])
def test_a_package_to_import_that_is_not_a_regular_file_is_refused_not_read(project, tmp_path, kind):
    """`import` of a FIFO waited forever, and of a symlink to /dev/zero read until it ran out of memory."""
    package = tmp_path / "deck.apkg"
    if kind == "dev-zero":
        package.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(package)
    else:
        package.mkdir()
    result = cardsmith(project.root, "import", "--out", str(project.root / "cards/deck"), str(package))
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr, result.stderr
    why = "is a directory" if kind == "folder" else f"{package}:0: not an Anki package: not a regular file"
    assert why in result.stderr, result.stderr
    assert not (project.root / "cards/deck").exists()


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "huge"])
@pytest.mark.parametrize("name", ["decks/test.lock", "decks/test.yaml", "templates/basic/notetype.yaml",
                                  "templates/base.css", "cards/test/a.md"])
def test_a_special_or_huge_file_is_refused_not_read(project, name, kind):
    """A file cardsmith reads that is a symlink to /dev/zero (it filled the memory: MemoryError), a FIFO (the run
    waited forever) or over the size limit is refused with its path, in bounded time and memory."""
    from cardsmith.files import MAX_RECORD_BYTES, MAX_SOURCE_BYTES

    project.write({"cards/test/a.md": card("An array.", "tensor"), "cards/test/b.md": card("A matrix.", "matrix")})
    assert cardsmith(project.root, "build").returncode == 0
    path = project.root / name
    path.unlink()
    if kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        with path.open("wb") as sparse:  # no disk used: a hole
            sparse.truncate((MAX_RECORD_BYTES if name.endswith(".lock") else MAX_SOURCE_BYTES) + 1)
    why = {"huge": "larger than", "fifo": "not a regular file", "dev-zero": "not a regular file"}[kind]
    if kind == "dev-zero" and not name.startswith("decks/"):
        why = "is outside the project"  # a card's or note type's file: the containment rule says so first
    for command in ("check", "build"):
        result = cardsmith(project.root, command)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        first = result.stderr.splitlines()[0]
        assert first.startswith(f"{name}:") and why in first, result.stderr
