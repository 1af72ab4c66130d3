"""A deck's media folder (deck file `media:`, what `import` writes): its files reach Anki under their own names,
all of them, a reference that names one stays exactly as written, a changed file updates the notes using it,
and two different files can never be one name in a package."""

from __future__ import annotations

from pathlib import Path

from conftest import import_apkg
from test_fields import PNG, package_notes

DECK = """
name: Test Deck
id: 1234567890
cards: [test/*.md]
media: test/media
"""
CARDS = """
## Where is this? <img src='pic.png' width=10>
<!-- id: where; type: verbatim -->

<img src="pic.png"> [sound:hello.mp3]

## And in Markdown?
<!-- id: markdown -->

![](pic.png)
"""
VERBATIM = {
    "templates/verbatim/notetype.yaml": """
        id: 1700000601
        name: Verbatim
        fields:
          - {name: Front, id: 1700000602, format: html}
          - {name: Back, id: 1700000603, format: html}
        templates:
          - {name: Card 1, id: 1700000604, front: front.html, back: back.html}
        """,
    "templates/verbatim/front.html": "{{Front}}", "templates/verbatim/back.html": "{{FrontSide}}<hr>{{Back}}",
}


def media_project(project) -> None:
    project.write({"decks/test.yaml": DECK, "cards/test/a.md": CARDS, **VERBATIM,
                   "cards/test/media/pic.png": PNG, "cards/test/media/hello.mp3": b"ID3 hello",
                   "cards/test/media/latex-0123.png": b"made by Anki", "cards/test/media/notes.md": "# not a card\n"})


def media_of(apkg: Path) -> dict[str, bytes]:
    import json
    import zipfile

    with zipfile.ZipFile(apkg) as archive:
        return {name: archive.read(member) for member, name in json.loads(archive.read("media")).items()}


def test_files_of_the_media_folder_keep_their_names_and_every_one_is_packaged(project):
    media_project(project)
    project.build()
    fields = package_notes(project.dist / "test.apkg")
    assert fields["Where is this? <img src='pic.png' width=10>"][1] == '<img src="pic.png"> [sound:hello.mp3]'  # as is
    assert fields["<p>And in Markdown?</p>"][1] == '<p><img alt="" src="pic.png" /></p>'
    assert media_of(project.dist / "test.apkg") == {"pic.png": PNG, "hello.mp3": b"ID3 hello",
                                                    "latex-0123.png": b"made by Anki", "notes.md": b"# not a card\n"}
    assert project.run("check", "--strict").exit_code == 0  # notes.md is a media file, no card file


def test_a_changed_file_of_the_media_folder_updates_the_notes_using_it(project, collection):
    media_project(project)
    project.build(env={"SOURCE_DATE_EPOCH": "1700000000"})
    import_apkg(collection, project.dist / "test.apkg")
    (project.root / "cards/test/media/pic.png").write_bytes(PNG + b"a better picture")
    built = project.build(env={"SOURCE_DATE_EPOCH": "1700000100"})
    assert "0 new, 2 changed, 0 unchanged" in built.output  # both cards show it; the name did not change
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.updated) == 2
    for note in map(collection.get_note, collection.find_notes("")):
        name = note.fields[1].split('src="')[1].split('"')[0]
        assert name != "pic.png"  # Anki keeps both pictures: the new one under a new name, in the updated notes
        assert (Path(collection.media.dir()) / name).read_bytes() == PNG + b"a better picture"


def test_two_different_files_of_one_name_are_refused(project):
    from cardsmith.boundary import Boundary
    from cardsmith.render import Renderer

    media_project(project)
    (project.root / "cards/test/img").mkdir()
    (project.root / "cards/test/img/dot.png").write_bytes(PNG + b"dot")
    hashed = Renderer(Boundary(project.root)).media_name(project.root / "cards/test/img/dot.png")
    (project.root / f"cards/test/media/{hashed}").write_bytes(b"another file")
    project.write({"cards/test/b.md": "## A dot?\n<!-- id: dot -->\n\n![](img/dot.png)\n"})
    result = project.run("build")
    assert result.exit_code == 1
    assert f"cards/test/b.md:2: two different files would be '{hashed}' in Anki" in result.output


def test_files_the_deck_says_are_missing_are_a_notice_others_an_error(project):
    media_project(project)
    project.write({"cards/test/b.md": "## Lost?\n<!-- id: lost; type: verbatim -->\n\n<img src=lost.png>\n"})
    result = project.run("build")
    assert result.exit_code == 1 and "cards/test/b.md:4: image not found: lost.png" in result.output
    project.write({"decks/test.yaml": DECK + "missing_media: [lost.png]\n"})
    built = project.build()
    assert "  cards/test/b.md:4: note: image not found: lost.png (the package the deck was imported from lacked it " \
           "too: missing_media in the deck file)" in built.output
    assert package_notes(project.dist / "test.apkg")["Lost?"][1] == "<img src=lost.png>"
    check = project.run("check", "--strict")
    assert check.exit_code == 0 and "note: image not found: lost.png" in check.output


def test_a_media_folder_must_be_one_inside_cards(project):
    media_project(project)
    for value, message in (("../outside", "'media' must be a folder under cards/"),
                           ("test/gone", "media folder cards/test/gone not found")):
        project.write({"decks/test.yaml": DECK.replace("test/media", value)})
        result = project.run("build")
        assert result.exit_code == 1 and message in result.output, result.output
