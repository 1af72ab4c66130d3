"""`cardsmith pull` on every shape a field is written in (the question, a long question, a `### Field`, a field
not written yet, a field of format html, an image next to the edit), and what it refuses: edits it cannot write
exactly, a file saved while it runs, bad options, sources that do not build. Real `anki` package, through the CLI."""

from __future__ import annotations

from pathlib import Path

import genanki
import pytest

from test_pull import anki_path, run  # noqa: F401  (the fixture)

DECK_ID = 1234567890  # conftest.DECK_YAML
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
CARDS = """\
## What is plotted?
<!-- id: plot -->

A line, $y = x$: ![a plot](img/plot.png)

## What does this print?
<!-- id: long-question -->

```python
print(1)
```

---

One.

## The sigmoid is {{c1::$\\sigma$}}.
<!-- id: sigmoid; type: cloze -->

## Reverse me?
<!-- id: reversible; type: optional-reversed -->

Forward answer.

### Add Reverse
y

## Which notes are kept as HTML?
<!-- id: html-notes; type: optional-reversed -->

Plain.

## Untouched?
<!-- id: untouched -->

Yes.
"""
OPTIONAL_REVERSED = {
    "templates/optional-reversed/notetype.yaml": """
        id: 1700000301
        name: Basic (optional reversed card)
        fields:
          - {name: Front, id: 1700000302}
          - {name: Back, id: 1700000303}
          - {name: Add Reverse, id: 1700000304, format: html}
        templates:
          - {name: Card 1, id: 1700000305, front: front.html, back: back.html}
          - {name: Card 2, id: 1700000306, front: reverse.html, back: reverse-back.html}
        """,
    "templates/optional-reversed/front.html": "{{Front}}\n",
    "templates/optional-reversed/back.html": '{{FrontSide}}<hr id="answer">{{Back}}\n',
    "templates/optional-reversed/reverse.html": "{{#Add Reverse}}{{Back}}{{/Add Reverse}}\n",
    "templates/optional-reversed/reverse-back.html": '{{FrontSide}}<hr id="answer">{{Front}}\n',
}


def synced(project, anki_path: Path) -> None:
    project.write({**OPTIONAL_REVERSED, "cards/test/a.md": CARDS, "cards/test/img/plot.png": PNG})
    project.build()
    run(project, "sync", anki_path)


def edit(anki_path: Path, card_id: str, **fields: str) -> None:
    """Set fields (by index: f0, f1, …) of a card's note in Anki, as a maintainer does in its editor."""
    from anki.collection import Collection

    col = Collection(str(anki_path))
    try:
        note = col.get_note(col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(DECK_ID, card_id)))
        for key, value in fields.items():
            index = int(key[1:])
            note.fields[index] = value(note.fields[index]) if callable(value) else value
        col.update_note(note)
    finally:
        col.close()


def card_file(project) -> str:
    return (project.root / "cards/test/a.md").read_text()


def test_each_shape_of_field_is_written_where_it_is(project, anki_path):
    synced(project, anki_path)
    edit(anki_path, "plot", f1=lambda html: html.replace("A line", "A <i>straight</i> line"))
    edit(anki_path, "long-question", f0=lambda html: html.replace("print(1)", "print(1)").replace(
        "<p>What does this print?</p>", "<p>What does this code print?</p>"))
    edit(anki_path, "sigmoid", f1="<p>Its derivative is \\(\\sigma(1-\\sigma)\\).</p>")  # Back Extra, not written
    edit(anki_path, "reversible", f2="yes, <b>both</b> ways")  # a field of format html
    # No Markdown renders the first; the second field was not written at all.
    edit(anki_path, "html-notes", f1="Plain, <u>underlined</u> without a paragraph", f2="y")
    before = card_file(project)
    result = run(project, "pull", anki_path)
    assert result.stdout.splitlines()[0] == \
        "Test Deck: 5 pulled, 0 new, 0 deleted in Anki, 0 changed in the sources only, 0 conflicts, 1 unchanged"
    assert card_file(project) == before.replace(
        "A line, $y = x$: ![a plot](img/plot.png)", "A <i>straight</i> line, $y = x$: ![a plot](img/plot.png)"
    ).replace("## What does this print?", "## What does this code print?").replace(
        "<!-- id: sigmoid; type: cloze -->\n", "<!-- id: sigmoid; type: cloze -->\n\n"
        "Its derivative is $\\sigma(1-\\sigma)$.\n"
    ).replace("### Add Reverse\ny\n", "### Add Reverse\nyes, <b>both</b> ways\n").replace(
        "\nPlain.\n", "\n```{=html}\nPlain, <u>underlined</u> without a paragraph\n```\n\n### Add Reverse\ny\n")
    project.build()
    assert run(project, "sync", anki_path).stdout.splitlines()[-1].endswith("is up to date: nothing to change.")


def test_a_question_that_needs_more_lines_gets_them_before_a_separator(project, anki_path):
    synced(project, anki_path)
    edit(anki_path, "untouched", f0="<p>Untouched?</p>\n<p>Not any more.</p>")
    run(project, "pull", anki_path)
    assert card_file(project).endswith("## Untouched?\n<!-- id: untouched -->\n\nNot any more.\n---\n\nYes.\n")
    project.build()
    assert run(project, "sync", anki_path).stdout.splitlines()[-1].endswith("is up to date: nothing to change.")


def test_an_edit_markdown_cannot_hold_is_raw_and_one_nothing_can_hold_is_reported(project, anki_path):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Yes.</p>\n## Not a card")  # as Markdown, this line would start a card
    edit(anki_path, "plot", f1=lambda html: html + '<img src="pasted.png">')  # a file the project does not have
    before = card_file(project)
    result = run(project, "pull", anki_path, code=1)
    assert result.stderr.splitlines() == [
        "cards/test/a.md:1: not pulled: card 'plot': field 'Back' uses the media file 'pasted.png', which is not in "
        "the project: add it next to the card file and edit the card by hand"]
    assert card_file(project) == before.replace("<!-- id: untouched -->\n\nYes.\n",
                                                "<!-- id: untouched -->\n\n```{=html}\n<p>Yes.</p>\n## Not a card\n```\n")
    project.build()
    synced_now = run(project, "sync", anki_path).stdout.splitlines()[0]
    assert synced_now == "Test Deck: 0 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 6 untouched"


def test_a_file_saved_while_pull_writes_is_never_overwritten(project, anki_path, monkeypatch):
    import os

    import cardsmith.files

    project.write({"cards/test/b.md": "## Second file?\n<!-- id: second -->\n\nYes.\n"})
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    edit(anki_path, "second", f1="<p>Yes!</p>")
    saved = project.root / "cards/test/b.md"
    real_replace = os.replace

    def replace_then_editor_saves(source, target):
        real_replace(source, target)
        if "meanwhile" not in saved.read_text():
            saved.write_text("## Saved meanwhile?\n<!-- id: second -->\n\nYes.\n")

    monkeypatch.setattr(cardsmith.files.os, "replace", replace_then_editor_saves)
    result = run(project, "pull", anki_path, code=1)
    assert "cards/test/b.md:0: changed while `cardsmith pull` ran (saved in an editor?): left as it is" in result.stderr
    assert saved.read_text() == "## Saved meanwhile?\n<!-- id: second -->\n\nYes.\n"
    assert card_file(project).endswith("<!-- id: untouched -->\n\nYes!\n")


@pytest.mark.parametrize("args, message", [
    (["--new-cards", "elsewhere.md"], "--new-cards must name a card file under cards/"),
    (["--new-cards", "cards/other/new.md"], "--new-cards: not a card file of a deck being pulled (Test Deck takes "
                                            "cards/test/*.md)"),
    (["--anki-connect", "http://127.0.0.1:9"], "give --collection or --anki-connect, not both"),
])
def test_bad_options_are_refused_before_anything_is_read(project, anki_path, args, message):
    synced(project, anki_path)
    edit(anki_path, "untouched", f1="<p>Yes!</p>")
    before = card_file(project)
    args = [str(project.root / a) if a.endswith(".md") else a for a in args]
    result = project.run("pull", "--collection", str(anki_path), *args)
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert card_file(project) == before


def test_sources_that_do_not_build_stop_pull_before_the_collection_is_opened(project, tmp_path):
    project.write({"cards/test/a.md": "## No id comment?\n\nAnswer.\n"})
    result = project.run("pull", "--collection", str(tmp_path / "missing.anki2"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == ("cards/test/a.md:1: card has no id comment: run `cardsmith ids` (or add "
                                             "`<!-- id: some-slug -->` on the line after the heading)")
    assert "missing.anki2" not in result.output


def test_a_tag_of_the_files_front_matter_cannot_be_removed_for_one_card(project, anki_path):
    from anki.collection import Collection

    project.write({"cards/test/a.md": "---\ntags: [topic::x]\n---\n\n## Tagged?\n<!-- id: tagged -->\n\nYes.\n"})
    project.build()
    run(project, "sync", anki_path)
    col = Collection(str(anki_path))
    try:
        note = col.get_note(col.find_notes("")[0])
        note.tags = ["topic::y"]
        col.update_note(note)
    finally:
        col.close()
    before = card_file(project)
    result = run(project, "pull", anki_path, code=1)
    assert result.stderr.splitlines() == [
        "cards/test/a.md:5: not pulled: card 'tagged': tag 'topic::x' was removed in Anki, but it comes from the "
        "file's front matter: remove it there (from all of the file's cards), or keep it"]
    assert card_file(project) == before
