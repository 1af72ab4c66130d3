"""Issue 3: `cardsmith ids` writes missing ids and changes nothing else."""

from __future__ import annotations

from cardsmith.commands.ids import slug_for

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


def parsed_ids(path) -> list[tuple[str, str]]:
    """(id, question) of every card the parser finds in a file, and no problem."""
    from cardsmith.parse import parse_file

    parsed = parse_file(path, "a.md")
    assert parsed.problems == ()
    return [(note.card_id, note.sections[0].text.strip()) for note in parsed.notes]


def test_ids_splits_lines_and_fences_as_the_parser_does(project):
    project.write({"cards/test/a.md": ""})
    path = project.root / "cards/test/a.md"
    source = ("\ufeff---\n## a YAML comment, not a card\ntags: [t]\n---\n\n"
              "## Fenced\n<!-- id: fenced -->\n\n```\n```python\n## not a heading\n```\n\n"
              "## Feed\fstill the heading\n\nAnswer.\n\n"
              "## Line\u2028separator\n\nAnswer.\n\n"
              "## Lone\rCR\n\nAnswer.\n")
    path.write_bytes(source.encode())
    result = project.run("ids")
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == source.replace(
        "## Feed\fstill the heading\n", "## Feed\fstill the heading\n<!-- id: feed-still-the-heading -->\n").replace(
        "## Line\u2028separator\n", "## Line\u2028separator\n<!-- id: line-separator -->\n").replace(
        "## Lone\r", "## Lone\r<!-- id: lone -->\n").encode()
    assert parsed_ids(path) == [("fenced", "Fenced"),
                                ("feed-still-the-heading", "Feed\fstill the heading"),
                                ("line-separator", "Line\u2028separator"), ("lone", "Lone")]
    project.build()


def test_ids_writes_through_symlinks_and_keeps_modes(project):
    project.write({"notes/real.md": "## Linked?\n\nYes.\n", "cards/test/private.md": "## Private?\n\nYes.\n"})
    link = project.root / "cards/test/link.md"
    link.symlink_to(project.root / "notes/real.md")
    private = project.root / "cards/test/private.md"
    private.chmod(0o600)
    result = project.run("ids")
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == project.root / "notes/real.md"
    assert (project.root / "notes/real.md").read_text() == "## Linked?\n<!-- id: linked -->\n\nYes.\n"
    assert private.read_text() == "## Private?\n<!-- id: private -->\n\nYes.\n"
    assert private.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (project.root / "cards/test").iterdir()) == ["link.md", "private.md"]


def test_ids_keeps_an_edit_saved_while_it_runs(project, monkeypatch):
    import cardsmith.commands.ids

    project.write({"cards/test/a.md": "## First?\n\nYes.\n", "cards/test/b.md": "## Second?\n\nYes.\n"})
    path = project.root / "cards/test/b.md"
    edit = "\n## Saved meanwhile?\n<!-- id: saved-meanwhile -->\n\nYes.\n"
    original = cardsmith.commands.ids._add_ids

    def editor_saves_meanwhile(text, shown, taken):
        if shown.endswith("b.md") and edit not in path.read_text():
            with path.open("a") as handle:  # the user saves b.md after `ids` read it
                handle.write(edit)
        return original(text, shown, taken)

    monkeypatch.setattr(cardsmith.commands.ids, "_add_ids", editor_saves_meanwhile)
    result = project.run("ids")
    assert result.exit_code == 1
    assert "cards/test/b.md:0: changed while `cardsmith ids` ran" in result.output
    assert path.read_text() == "## Second?\n\nYes.\n" + edit
    assert (project.root / "cards/test/a.md").read_text() == "## First?\n\nYes.\n"  # nothing written
    assert sorted(p.name for p in (project.root / "cards/test").iterdir()) == ["a.md", "b.md"]
    monkeypatch.undo()
    result = project.run("ids")
    assert result.exit_code == 0, result.output
    assert path.read_text() == "## Second?\n<!-- id: second -->\n\nYes.\n" + edit


def test_ids_keeps_an_edit_saved_while_it_replaces_files(project, monkeypatch):
    import os

    import cardsmith.files

    project.write({"cards/test/a.md": "## First?\n\nYes.\n", "cards/test/b.md": "## Second?\n\nYes.\n"})
    path = project.root / "cards/test/b.md"
    real_replace = os.replace

    def replace_then_editor_saves(source, target):
        real_replace(source, target)
        if "Saved" not in path.read_text():
            path.write_text("## Saved meanwhile?\n")

    monkeypatch.setattr(cardsmith.files.os, "replace", replace_then_editor_saves)
    result = project.run("ids")
    assert result.exit_code == 1
    assert "cards/test/b.md:0: changed while `cardsmith ids` ran (saved in an editor?): left as it is" in result.output
    assert path.read_text() == "## Saved meanwhile?\n"
    assert (project.root / "cards/test/a.md").read_text() == "## First?\n<!-- id: first -->\n\nYes.\n"
    assert sorted(p.name for p in (project.root / "cards/test").iterdir()) == ["a.md", "b.md"]


def test_ids_reads_the_id_comment_as_the_parser_does(project):
    """An empty `id:`, or an `id:` inside a `guid:` (which runs to the end of the comment), is no id to the parser:
    `ids` gives those cards one, and the build then takes them."""
    project.write({"cards/test/a.md": "## Empty id?\n<!-- id: ; tags: b -->\n\nYes.\n\n"
                                      "## Id in a guid?\n<!-- guid: g;id: zz -->\n\nYes.\n\n"
                                      "## Id taken in a guid?\n<!-- id: zz -->\n\nYes.\n\n"
                                      "## Empty id last?\n<!--tags: c;id:-->\n\nYes.\n"})
    assert project.run("build").exit_code == 1
    result = project.run("ids")
    assert result.output.splitlines() == ["cards/test/a.md:2: added id 'empty-id'",
                                          "cards/test/a.md:7: added id 'id-in-a-guid'",
                                          "cards/test/a.md:17: added id 'empty-id-last'", "3 ids added."]
    assert (project.root / "cards/test/a.md").read_text() == (
        "## Empty id?\n<!-- id: empty-id; tags: b -->\n\nYes.\n\n"
        "## Id in a guid?\n<!-- id: id-in-a-guid; guid: g;id: zz -->\n\nYes.\n\n"
        "## Id taken in a guid?\n<!-- id: zz -->\n\nYes.\n\n"
        "## Empty id last?\n<!--tags: c;id: empty-id-last-->\n\nYes.\n")
    assert "4 cards, 4 notes" in project.build().output
