"""Issue 7: `cardsmith export`: Anki text-import files that match the .apkg, and a Markdown handout."""

from __future__ import annotations

import pytest

from anki.collection import ImportCsvRequest

from cardsmith.commands.export import reveal_cloze
from conftest import import_apkg
from test_pipeline import CARDS, write_sample


def import_text(col, path):
    """Import a text file as Anki's File > Import does, with the options its headers set."""
    metadata = col.get_csv_metadata(str(path), None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


def snapshot(col) -> dict:
    """Every note by GUID: note type id, fields, tags and the decks of its cards."""
    result = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        decks = sorted({col.decks.name(col.get_card(c).did) for c in note.card_ids()})
        result[note.guid] = (note.mid, list(note.fields), sorted(note.tags), decks)
    return result


def test_csv_and_tsv_match_the_apkg_and_update_in_place(project, collection, tmp_path):
    from anki.collection import Collection

    write_sample(project)
    project.build()
    for fmt in ("csv", "tsv"):
        result = project.run("export", "--format", fmt)
        assert result.exit_code == 0, result.output
        assert f"Test Deck: 4 notes -> dist/test.{fmt}" in result.output
        assert "media in dist/test-media" in result.output
    text = (project.dist / "test.csv").read_text()
    assert text.startswith("#separator:comma\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n"
                           "#tags column:6\n")
    assert (project.dist / "test.tsv").read_text().startswith("#separator:tab\n")

    import_apkg(collection, project.dist / "test.apkg")
    expected = snapshot(collection)
    assert len(expected) == 4
    for fmt in ("csv", "tsv"):
        # A collection that has the note types (from an earlier .apkg) but not the notes.
        (tmp_path / fmt).mkdir()
        col = Collection(str(tmp_path / fmt / "collection.anki2"))
        import_apkg(col, project.dist / "test.apkg")
        col.remove_notes(col.find_notes(""))
        log = import_text(col, project.dist / f"test.{fmt}")
        assert len(log.new) == 4 and not log.missing_notetype
        assert snapshot(col) == expected
        col.close()

    # Importing the text file over the .apkg import changes nothing ...
    log = import_text(collection, project.dist / "test.csv")
    assert len(log.duplicate) == 4 and not log.new and not log.updated
    # ... and an edited card updates the same note in place.
    ids_before = {collection.get_note(n).guid: n for n in collection.find_notes("")}
    write_sample(project, CARDS.replace("What is the derivative of", "What is the first derivative of"))
    project.build()
    project.run("export", "--format", "csv")
    log = import_text(collection, project.dist / "test.csv")
    assert len(log.updated) == 1 and not log.new
    assert {collection.get_note(n).guid: n for n in collection.find_notes("")} == ids_before
    assert any("first derivative" in v[1][0] for v in snapshot(collection).values())


def test_text_import_needs_the_note_types(project, collection):
    write_sample(project)
    project.run("export", "--format", "csv")
    log = import_text(collection, project.dist / "test.csv")
    assert len(log.missing_notetype) == 4 and not log.new


def test_markdown_handout_keeps_math_and_images(project):
    write_sample(project)
    result = project.run("export", "--format", "markdown", "--out", str(project.root / "handout"))
    assert result.exit_code == 0, result.output
    text = (project.root / "handout/test.md").read_text()
    assert text.startswith("# Test Deck\n\n## Basics\n\n### What is the derivative of $\\sigma(x)$ when $x_1 < x_2$")
    assert "$$\n\\frac{\\partial L}{\\partial w}" in text
    assert "### Softmax is **$\\frac{e^{z_i}}{\\sum_j e^{z_{j}}}$**." in text
    assert "![a plot](../cards/test/img/dot.png)" in text
    assert "<!--" not in text


def test_markdown_handout_relinks_media_tags_as_images(project):
    """An `<img>`, `<audio>`, `<video>`, `<source>` or `<object>` file is packaged as an image is (render.MEDIA_TAG_RE):
    the handout, in another folder than the card, links it as it links `![x](…)`."""
    project.write({"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n<IMG alt='a > b' src='p.png'> <audio src=\"s.mp3\"></audio> "
                                      "<video><source src=sub/v.mp4></video> <object data=\"p.png\"></object> "
                                      "<img src=\"https://example.org/x.png\">\n",
                   "cards/test/p.png": b"\x89PNG\r\n", "cards/test/s.mp3": b"ID3", "cards/test/sub/v.mp4": b"mp4"})
    assert project.run("export", "--format", "markdown", "--out", str(project.root / "handout")).exit_code == 0
    text = (project.root / "handout/test.md").read_text()
    assert ("<IMG alt='a > b' src=\"../cards/test/p.png\"> <audio src=\"../cards/test/s.mp3\"></audio> <video><source "
            "src=\"../cards/test/sub/v.mp4\"></video> <object data=\"../cards/test/p.png\"></object> "
            "<img src=\"https://example.org/x.png\">") in text, text


def test_markdown_handout_links_the_media_folder_file_a_build_packages(project):
    """In a deck imported from Anki, a plain name is the deck's media folder's file (render.local_file)."""
    project.write({"decks/test.yaml": "name: Test Deck\nid: 1234567890\ncards: [test/*.md]\nmedia: test/media\n",
                   "cards/test/a.md": "## Q?\n<!-- id: q -->\n\n<img src=\"x.png\"> ![y](x.png)\n",
                   "cards/test/media/x.png": b"\x89PNG\r\n"})
    assert project.run("export", "--format", "markdown").exit_code == 0
    assert '<img src="../cards/test/media/x.png"> ![y](../cards/test/media/x.png)' in (project.dist / "test.md").read_text()


def test_markdown_handout_leaves_code_as_written(project):
    """Code shows a tag or an image link as text (the build packages nothing of it): the handout keeps it as written."""
    project.write({"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n`<img src=\"p.png\">` and\n\n```html\n<audio src=\"s.mp3\">"
                                      "\n![x](p.png)\n```\n\n<img src=\"p.png\">\n",
                   "cards/test/p.png": b"\x89PNG\r\n"})
    assert project.run("export", "--format", "markdown").exit_code == 0
    assert ('`<img src="p.png">` and\n\n```html\n<audio src="s.mp3">\n![x](p.png)\n```\n\n<img src="../cards/test/p.png">'
            in (project.dist / "test.md").read_text())


@pytest.mark.parametrize("out", ["cards/test", "cards", "decks", "templates/basic", "./cards/../cards/test"])
@pytest.mark.parametrize("fmt", ["markdown", "csv"])
def test_an_export_into_the_sources_is_refused(project, out, fmt):
    """`--out cards/test` wrote the handout `test.md` over the card file of that name (the card's only source)."""
    card = "## Q?\n<!-- id: q -->\n\nA.\n"
    project.write({"cards/test/test.md": card, "cards/test.md": card})
    before = sorted(p for p in project.root.rglob("*") if ".cache" not in p.parts and ".cardsmith" not in p.parts)
    result = project.run("export", "--format", fmt, "--out", str(project.root / out))
    assert result.exit_code == 1 and f"--out: {out.replace('./cards/../', '')} is inside the project's sources" \
        in result.output, result.output
    assert (project.root / "cards/test/test.md").read_text() == card
    assert sorted(p for p in project.root.rglob("*") if ".cache" not in p.parts and ".cardsmith" not in p.parts) == before


def test_reveal_cloze():
    assert reveal_cloze("A {{c1::b::hint}} and {{c2::$x^{y}$}}.") == "A **b** and **$x^{y}$**."


def test_export_errors(project):
    project.write({"cards/test/a.md": "## Q?\n<!-- id: q -->\n\n$x\n"})
    result = project.run("export", "--format", "csv")
    assert result.exit_code == 1
    assert "cards/test/a.md:4: unclosed inline math" in result.output


# card-388's GUID in deck 1234567890 starts with `#` (as about 1 in 91 do): Anki's text importer
# reads such a line as a comment unless the field is quoted.
HOSTILE_CARDS = r'''
## Which GUID starts with a hash?
<!-- id: card-388 -->

This one: `#c-%h!(kU`.

## Which GUID has quotes, commas and a tab?
<!-- id: quoted; guid: "a,b;	c" d -->

"Quoted", with a comma; and a	tab.

## #hash at the start of a question?
<!-- id: hash-question -->

 leading space, and a trailing one 

## Multi-line?
<!-- id: multi-line -->

Line one

Line two with "quotes"
'''


def test_csv_and_tsv_keep_every_note_whatever_its_guid_or_fields(project, tmp_path):
    from anki.collection import Collection

    project.write({"cards/test/hostile.md": HOSTILE_CARDS})
    project.build()
    for fmt in ("csv", "tsv"):
        assert project.run("export", "--format", fmt).exit_code == 0
    (tmp_path / "apkg").mkdir()
    col = Collection(str(tmp_path / "apkg" / "collection.anki2"))
    import_apkg(col, project.dist / "test.apkg")
    expected = snapshot(col)
    col.close()
    assert len(expected) == 4 and any(guid.startswith("#") for guid in expected)
    for fmt in ("csv", "tsv"):
        (tmp_path / fmt).mkdir()
        col = Collection(str(tmp_path / fmt / "collection.anki2"))
        import_apkg(col, project.dist / "test.apkg")
        col.remove_notes(col.find_notes(""))
        log = import_text(col, project.dist / f"test.{fmt}")
        assert len(log.new) == 4, (fmt, log)
        assert snapshot(col) == expected, fmt
        col.close()
