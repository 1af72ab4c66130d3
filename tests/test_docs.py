"""The documentation keeps step with the code: every command and option of the CLI is in docs/commands.md,
and every relative link in README.md and docs/ reaches an existing file and heading."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import click
import pytest

from cardsmith.cli import main
from cardsmith.parse import code_lines
from conftest import REPO

COMMANDS_MD = REPO / "docs" / "commands.md"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# A Markdown link's target, or an <img> tag's src.
LINK_RE = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|<img\s[^>]*src=\"([^\"]+)\"")
HEADING_RE = re.compile(r"(#{1,6}) (.*)")


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of a Markdown file's lines outside fenced code blocks (the parser's fence rule)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    inside = {index for index, _ in code_lines(lines)}
    return [(index + 1, line) for index, line in enumerate(lines) if index not in inside]


def sections(path: Path) -> dict[str, str]:
    """Each `## ` section's title and text (up to the next `## ` heading); the text before the first is ''."""
    found, title, text = {}, "", []
    for _, line in prose_lines(path):
        match = HEADING_RE.fullmatch(line)
        if match and len(match.group(1)) == 2:
            found[title] = "\n".join(text)
            title, text = match.group(2).strip(), []
        else:
            text.append(line)
    found[title] = "\n".join(text)
    return found


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces made `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    kept = "".join(c for c in text if c in "-_ " or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file (a repeated heading gets `-1`, `-2`, … as on GitHub)."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for _, line in prose_lines(path):
        match = HEADING_RE.fullmatch(line)
        if match:
            anchor = github_anchor(match.group(2))
            count = counts.get(anchor, 0)
            counts[anchor] = count + 1
            found.add(f"{anchor}-{count}" if count else anchor)
    return found


def broken_links(docs: list[Path], root: Path) -> list[str]:
    """`page:line: target: why` for each relative link or image of `docs` whose file or heading is missing."""
    broken = []
    for doc in docs:
        for number, line in prose_lines(doc):
            for match in LINK_RE.finditer(re.sub(r"`[^`]*`", "", line)):  # a link's text may be code
                target = match.group(1) or match.group(2)
                if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not a file of ours
                    continue
                file, _, fragment = target.partition("#")
                path = (doc.parent / file).resolve() if file else doc
                where = f"{doc.relative_to(root)}:{number}: {target}"
                if not path.exists():
                    broken.append(f"{where}: no such file")
                elif fragment and (path.suffix != ".md" or fragment not in anchors(path)):
                    broken.append(f"{where}: no such heading")
    return broken


def options(command: click.Command) -> list[str]:
    """Every option name of a command (`-v` and `--verbose` alike), but help's."""
    return [name for param in command.params if isinstance(param, click.Option)
            for name in param.opts + param.secondary_opts]


def test_github_anchor_follows_githubs_rule():
    assert github_anchor("Named fields: `### Field`") == "named-fields--field"
    assert github_anchor("Reviewing changes: `cardsmith diff`") == "reviewing-changes-cardsmith-diff"
    assert github_anchor("notetype.yaml") == "notetypeyaml"
    assert github_anchor("Bringing edits made in Anki back (`cardsmith pull`)") == \
        "bringing-edits-made-in-anki-back-cardsmith-pull"


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_option_is_in_commands_md(name: str):
    """A row of the commands table, a `## name` section, and in it every option the command takes."""
    command = main.commands[name]
    found = sections(COMMANDS_MD)
    assert f"| `cardsmith {name}" in found[""], f"no row for `cardsmith {name}` in the table of docs/commands.md"
    assert name in found, f"no `## {name}` section in docs/commands.md"
    # --root is said once for every command, above the table's sections (and checked below).
    missing = [option for option in options(command)
               if option != "--root" and not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", found[name])]
    assert not missing, f"docs/commands.md, `## {name}`: options not documented: {missing}"


def test_commands_md_says_which_commands_take_root():
    intro = sections(COMMANDS_MD)[""]
    without_root = sorted(name for name, command in main.commands.items() if "--root" not in options(command))
    assert without_root == ["init"]
    assert "Every command but `init` takes `--root DIR`" in intro


def test_commands_md_names_only_commands_that_exist():
    """The table's rows and the `## ` sections of docs/commands.md are the CLI's commands, no more."""
    found = sections(COMMANDS_MD)
    assert set(re.findall(r"^\| `cardsmith ([a-z-]+)", found[""], re.M)) == set(main.commands)
    assert set(found) - {""} == set(main.commands)


def test_every_relative_link_reaches_a_file_and_heading():
    broken = broken_links(DOCS, REPO)
    assert not broken, "\n".join(broken)


def test_the_link_check_finds_a_broken_link(tmp_path: Path):
    """The check above can fail: a missing file and a missing heading are found, a link in code is not."""
    doc = tmp_path / "page.md"
    doc.write_text("# A title\n\n[a](other.md) [b](#nothing) [`c`](#a-title) `[d](e.md)`\n\n```\n[f](code.md)\n```\n",
                   encoding="utf-8")
    assert broken_links([doc], tmp_path) == ["page.md:3: other.md: no such file",
                                             "page.md:3: #nothing: no such heading"]
