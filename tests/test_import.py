"""Issue 14: `cardsmith import` is a migration that changes nothing. A deck made in Anki (every stock note type, a
custom 6-field type with its own LaTeX preamble, any field content, tags, subdecks, reviews) is imported, built,
and the build imported into the collection it came from: no note new, updated or conflicting, every field, tag,
card, review and media file as it was; a new learner gets what the original package gives."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cardsmith.parse import slug, unique
from conftest import import_apkg, review_all

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath,siunitx}\n\\begin{document}\n"
PHYSICS = ["Term", "Formula", "Definition", "Unit", "Audio", "Source"]
TOP = "Physik & Co"
NOTES = [  # (note type, deck under TOP, fields, tags)
    ("Basic", "", ["What is <b>2+2</b>?", "4<br>indeed \\(x^2 < y\\)&nbsp;"], ["math", "a;b", "日本語", "x-->y"]),
    ("Basic", "", ["What is <b>2+2</b>?", "The same question, another note"], ['q"q', "Ελληνικά::τάξη"]),
    ("Basic", "Geo", ['Where is this? <img src="map 1.png">', "<div>Paris</div><div>France</div><div><br></div>"],
     ["geo", "level::easy"]),
    ("Basic", "Geo::Europe::Islands", ["<table><tr><td>a</td><td>b</td></tr></table>", "<ul><li>one</li><li>two</li>"
                                       "</ul><ol><li>first</li></ol>"], []),
    ("Basic", "Geo::Europe::Islands", ["  spaces around  ", "line one\nline two\n\n```\n### Back\n## not a card"], []),
    ("Basic (and reversed card)", "", ["chien", "dog [sound:chien.mp3]"], ["lang"]),
    ("Basic (optional reversed card)", "", ["", "an empty first field", ""], []),
    ("Basic (optional reversed card)", "", ["Front", "Back", "y"], []),
    ("Basic (optional reversed card)", "Geo", ["Basic with nothing on the back", "", ""], []),
    ("Cloze", "", ["The sigmoid is {{c1::\\(\\frac{1}{1+e^{-x}}\\)}}", ""], []),
    ("Cloze", "Geo", ["Paris is the {{c1::capital::city}} of {{c2::France}}", "Extra <b>info</b>: [$]x^2[/$]"], []),
    ("Cloze", "Geo", ["A cloze note without a deletion", ""], []),
    ("Basic", "", ["<p>Made from <strong>Markdown</strong></p>", "<p>\\(\\sum_i x_i\\)</p>"], []),
    ("Physik", "Mechanik", ["Kraft", "[$]F = m \\cdot a[/$]", "[latex]\\SI{1}{\\newton}[/latex]", "N",
                            "[sound:kraft.mp3]", '<a href="https://de.wikipedia.org/wiki/Kraft">Wikipedia</a>'],
     ["physik::mechanik"]),
    ("Physik", "Mechanik", ["Arbeit", "\\[W = \\int F\\,ds\\]", "", "J", "", ""], []),
]


def physics_notetype(col) -> None:
    """A note type of six fields, with its own LaTeX preamble, a font from the media folder and field options."""
    models = col.models
    model = models.new("Physik")
    for name in PHYSICS:
        models.add_field(model, models.new_field(name))
    model["flds"][1]["rtl"], model["flds"][2]["plainText"], model["flds"][3]["size"] = True, True, 14
    model["flds"][4]["collapsed"], model["flds"][5]["excludeFromSearch"] = True, True
    model["sortf"], model["latexPre"], model["latexsvg"] = 2, PREAMBLE, True
    model["css"] = '.card {\n  font-family: Physik;\n}\n@font-face { font-family: Physik; src: url("_physik.woff"); }\n'
    template = models.new_template("Karte")
    template["qfmt"], template["afmt"] = "{{Term}}<br>{{Formula}}", "{{FrontSide}}<hr id=answer>{{Definition}} {{Unit}}"
    template["bqfmt"] = "{{Term}}"
    models.add_template(model, template)
    models.add(model)


def make_deck(col, tmp: Path) -> int:
    """The deck, as its maintainer has it in Anki (media, LaTeX images Anki made, reviews); return its note count."""
    col.media.write_data("map 1.png", PNG)
    col.media.write_data("chien.mp3", b"ID3 a dog")
    col.media.write_data("kraft.mp3", b"ID3 Kraft")
    col.media.write_data("_physik.woff", b"wOFF a font")
    physics_notetype(col)
    for notetype, deck, fields, tags in NOTES:
        note = col.new_note(col.models.by_name(notetype))
        note.fields[:] = fields
        note.tags = tags
        col.add_note(note, col.decks.id(f"{TOP}::{deck}" if deck else TOP))
        svg = col.models.by_name(notetype)["latexsvg"]
        for latex in col._backend.extract_latex(text=" ".join(fields), svg=svg, expand_clozes=True).latex:
            col.media.write_data(latex.filename, f"<svg>{latex.latex_body}</svg>".encode())  # as Anki desktop makes
    if "Image Occlusion" in [m.name for m in col.models.all_names_and_ids()]:
        image = tmp / "io.png"
        image.write_bytes(PNG)
        col.add_image_occlusion_note(col.models.id_for_name("Image Occlusion"), str(image),
                                     "{{c1::image-occlusion:rect:left=.1:top=.1:width=.3:height=.3:oi=1}}",
                                     "Header", "Back <i>extra</i>", ["io"])
        col.set_deck([c for c in col.find_cards("note:Image*")], col.decks.id(TOP))
    review_all(col, TOP)
    return len(col.find_notes(""))


def export(col, path: Path, legacy: bool) -> Path:
    from anki.collection import DeckIdLimit, ExportAnkiPackageOptions

    col.export_anki_package(out_path=str(path), limit=DeckIdLimit(col.decks.id(TOP)),
                            options=ExportAnkiPackageOptions(with_scheduling=True, with_media=True, legacy=legacy))
    return path


def state(col) -> dict:
    """Everything a learner has: notes, cards with their scheduling, reviews, note types, media files."""
    media = Path(col.media.dir())
    return {
        "notes": sorted(col.db.all("SELECT guid, mid, mod, tags, flds FROM notes")),
        "cards": sorted(col.db.all("SELECT id, nid, did, ord, type, queue, due, ivl, factor, reps FROM cards")),
        "revlog": sorted(col.db.all("SELECT * FROM revlog")),
        "notetypes": sorted((m["id"], m["name"], m["css"], m["mod"], str(m["flds"]), str(m["tmpls"]))
                            for m in col.models.all()),
        "media": sorted((p.name, p.read_bytes()) for p in media.iterdir()),
    }


@pytest.mark.parametrize("legacy", [False, True], ids=["anki21b", "legacy"])
def test_a_migrated_deck_changes_nothing_for_its_learners(project, collection, tmp_path, legacy):
    count = make_deck(collection, tmp_path)
    package = export(collection, tmp_path / "physik.apkg", legacy)
    before = state(collection)
    (project.root / "decks/test.yaml").unlink()

    result = project.run("import", "--out", str(project.root / "cards/physik"), "--verify", str(package))
    assert result.exit_code == 0, result.output
    assert f"{count} notes imported: each builds to its original fields, byte for byte" in result.output
    assert f"verify: a build of the imported sources holds the package's {count} notes exactly" in result.output
    assert "note type 'Physik' -> templates/anki-physik/: 2 notes; Term: 2 HTML as written;" in result.output
    check = project.run("check", "--strict")
    assert (check.exit_code, check.output) == (0, ""), check.output
    built = project.build()
    assert f"0 new, 0 changed, {count} unchanged" in built.output

    log = import_apkg(collection, project.dist / "physik.apkg")
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert len(log.duplicate) == count  # Anki's word for "not newer: skipped"
    assert state(collection) == before


def test_a_new_learner_gets_what_the_original_package_gives(project, collection, tmp_path):
    from anki.collection import Collection

    make_deck(collection, tmp_path)
    package = export(collection, tmp_path / "physik.apkg", legacy=False)
    (project.root / "decks/test.yaml").unlink()
    assert project.run("import", "--out", str(project.root / "cards/physik"), str(package)).exit_code == 0
    project.build()
    got = []
    for name, path in (("original", package), ("built", project.dist / "physik.apkg")):
        (tmp_path / name).mkdir()
        col = Collection(str(tmp_path / name / "collection.anki2"))
        try:
            import_apkg(col, path)
            decks = {d.id: d.name for d in col.decks.all_names_and_ids()}
            got.append((sorted(col.db.all("SELECT guid, mid, tags, flds FROM notes")),
                        sorted((col.get_note(c.nid).guid, c.ord, decks[c.did], c.queue)
                               for c in map(col.get_card, col.find_cards(""))),
                        sorted((p.name, p.read_bytes()) for p in Path(col.media.dir()).iterdir())))
        finally:
            col.close()
    assert got[0] == got[1]


def test_the_import_writes_readable_sources(project, collection, tmp_path):
    make_deck(collection, tmp_path)
    package = export(collection, tmp_path / "physik.apkg", legacy=False)
    (project.root / "decks/test.yaml").unlink()
    assert project.run("import", "--out", str(project.root / "cards/physik"), str(package)).exit_code == 0
    main = (project.root / "cards/physik/main.md").read_text()
    # HTML as written where it reads back exactly; raw form where it must keep its bytes.
    assert '## What is <b>2+2</b>?\n<!-- id: what-is-2-2; type: anki-basic; tags: "a;b" math "x--\\u003ey" 日本語; ' \
           'guid: ' in main  # tags in Anki's order
    assert "\n\n4<br>indeed \\(x^2 < y\\)&nbsp;\n" in main
    assert "<!-- id: what-is-2-2-2; type: anki-basic; tags: \"q\\\"q\" Ελληνικά::τάξη; distinct: what-is-2-2; guid:" \
        in main
    assert "## {=html}\n<!-- id: card; type: anki-basic-optional-reversed-card; guid: " in main
    islands = (project.root / "cards/physik/geo-europe-islands.md").read_text()
    assert islands.startswith("---\nsubdeck: Geo::Europe::Islands\n---\n\n## <table>")
    assert "```{=html}\nline one\nline two\n\n```\n### Back\n## not a card\n````" in islands.replace("````{=html}",
                                                                                                  "```{=html}")
    physics = (project.root / "templates/anki-physik/notetype.yaml").read_text()
    for line in ("sort_field: Definition", "  rtl: true", "  plain_text: true", "  size: 14", "  collapsed: true",
                 "  exclude_from_search: true", "  browser_front: card1-browser-front.html", "base_css: false",
                 "latex:\n  preamble: preamble.tex\n  svg: true"):
        assert line in physics, line
    assert (project.root / "templates/anki-physik/preamble.tex").read_text() == PREAMBLE
    deck = (project.root / "decks/physik.yaml").read_text()
    assert f"name: {TOP}\n" in deck and "media: physik/media\n" in deck
    media = sorted(p.name for p in (project.root / "cards/physik/media").iterdir())
    assert {"_physik.woff", "chien.mp3", "kraft.mp3", "map 1.png"} <= set(media)
    assert len([m for m in media if m.startswith("latex-") and m.endswith(".svg")]) == 2  # Physik's
    assert len([m for m in media if m.startswith("latex-") and m.endswith(".png")]) == 1  # Cloze's


def test_media_the_package_lacks_are_said_once_per_note_and_the_build_still_publishes(project, tmp_path):
    from test_import_hostile import BASIC_ID, collection_bytes, package

    notes = [(f"g{i}", BASIC_ID, [f"Question {i}? <img src='lost.png'>", "Answer"], "", 10) for i in range(30)]
    notes.append(("many", BASIC_ID, ["Many times?", "[sound:gone.mp3] " * 15000], "", 10))
    (project.root / "decks/test.yaml").unlink()
    apkg = package(tmp_path / "lost.apkg", collection_bytes(tmp_path, notes=notes))
    result = project.run("import", "--out", str(project.root / "cards/lost"), str(apkg))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "cards/lost/main.md:2: warning: note 'g0' (\"Question 0?\"): uses the media file 'lost.png', which the " \
           "package lacks" in lines
    assert sum("'lost.png'" in line for line in lines) == 11  # ten notes named, then how many more
    assert f"{apkg}: warning: ... and 20 more notes use the media file 'lost.png', which the package lacks" in lines
    assert sum("'gone.mp3'" in line for line in lines) == 1
    assert any(line.endswith("uses the media file 'gone.mp3' (15000 times), which the package lacks") for line in lines)
    assert "missing_media:\n- gone.mp3\n- lost.png\n" in (project.root / "decks/lost.yaml").read_text()
    built = project.build()
    assert "note: image not found: lost.png (the package the deck was imported from lacked it too" in built.output
    assert project.run("check", "--strict").exit_code == 0


def test_a_field_that_cannot_be_kept_is_said_per_note_and_verify_shows_it(project, tmp_path):
    from test_import_hostile import BASIC_ID, collection_bytes, package

    notes = [("cr", BASIC_ID, ["Windows line end?", "one\r\ntwo"], "", 10), ("ok", BASIC_ID, ["Fine?", "Yes"], "", 10)]
    (project.root / "decks/test.yaml").unlink()
    apkg = package(tmp_path / "cr.apkg", collection_bytes(tmp_path, notes=notes))
    result = project.run("import", "--out", str(project.root / "cards/cr"), "--verify", str(apkg))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "cards/cr/main.md:2: warning: note 'cr' (\"Windows line end?\"): field 'Back' cannot be kept byte for byte " \
           "(a carriage return ends a line in a card file)" in lines
    assert "2 notes imported; 1 of them not exactly (see the lines above; learners' copies of them stay as they are " \
           "until you change them)" in lines
    assert f"{apkg}: warning: note 'cr' (\"Windows line end?\"): field 'Back' differs from character 4 (8 characters, " \
           "built 7)" in lines
    assert lines[-1] == f"verify: the build differs from {apkg} (the lines above)"


def test_a_deck_note_type_or_note_the_project_has_is_refused(project, collection, tmp_path):
    from test_import_hostile import BASIC_ID, collection_bytes, package, snapshot

    (project.root / "decks/test.yaml").unlink()
    apkg = package(tmp_path / "a.apkg", collection_bytes(tmp_path))
    assert project.run("import", "--out", str(project.root / "cards/first"), str(apkg)).exit_code == 0
    before = snapshot(project.root)
    result = project.run("import", "--out", str(project.root / "cards/second"), str(apkg))
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "cards/first/main.md:2: this card is the package's note 'guid-1' already (deck file decks/first.yaml): imported "
        "again, two cards would be one Anki note",
        "decks/first.yaml:1: the project has the deck 'Hostile' (id 10) already, and the package's deck 'Hostile' (id "
        "10) would be the same deck in Anki, which knows decks by name. Was this package imported before? (`--force` "
        "imports it again over its own files)"]
    assert snapshot(project.root) == before
    other = package(tmp_path / "b.apkg", collection_bytes(
        tmp_path, notes=[("guid-2", BASIC_ID, ["Another?", "Deck"], "", 11)],
        decks={"11": {"id": 11, "name": "Another"}}))
    result = project.run("import", "--out", str(project.root / "cards/other"), str(other))
    assert result.exit_code == 1
    assert "templates/anki-basic/notetype.yaml:1: the project has the note type 'Basic' (id 1700000000001) already" \
           in result.output and "pass --merge" in result.output
    assert snapshot(project.root) == before
    result = project.run("import", "--out", str(project.root / "cards/other"), "--merge", str(other))
    assert result.exit_code == 0, result.output
    assert "type: anki-basic;" in (project.root / "cards/other/main.md").read_text()
    assert not (project.root / "templates/anki-basic-2").exists()
    assert project.run("check", "--strict").exit_code == 0
    project.build()


def test_a_media_file_named_like_a_card_file_stays_media(project, tmp_path):
    from test_import_hostile import BASIC_ID, collection_bytes, package

    notes = [("g", BASIC_ID, ["Notes?", '<a href="notes.md">notes</a> <img src="main.md">'], "", 10)]
    (project.root / "decks/test.yaml").unlink()
    apkg = package(tmp_path / "md.apkg", collection_bytes(tmp_path, notes=notes),
                   media={"notes.md": b"# not a card\n", "main.md": b"## nor this\n"})
    assert project.run("import", "--out", str(project.root / "cards/md"), str(apkg)).exit_code == 0
    assert project.run("check", "--strict").exit_code == 0
    assert "1 card, 1 note, 2 media" in project.build().output


@pytest.mark.parametrize("content", ["<b>" * 1000 + "deep" + "</b>" * 1000, "*" * 100_000, "<" * 100_000,
                                     "\\(" * 50_000, "<p>" + "\\(" * 9_000 + "</p>", "<p>" + "<img " * 3_000 + "</p>"])
def test_hostile_fields_import_verbatim_without_a_traceback(project, tmp_path, content):
    from test_import_hostile import BASIC_ID, collection_bytes, package

    (project.root / "decks/test.yaml").unlink()
    apkg = package(tmp_path / "big.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, ["Big?", content], "", 10)]))
    result = project.run("import", "--out", str(project.root / "cards/big"), "--verify", str(apkg))
    assert result.exit_code == 0, result.output
    assert "1 note imported: each builds to its original fields, byte for byte" in result.output


def test_markdown_candidates_are_tried_only_on_markdown_made_html_within_the_limit(monkeypatch):
    from cardsmith.commands import htmlmd

    tried = []
    monkeypatch.setattr(htmlmd, "_convert", lambda text: tried.append(len(text)) or "x")
    for field in ("<b>bold</b>", "plain text", "<div>a</div>", "<p>" + "*" * 100_000 + "</p>"):
        assert htmlmd.markdown_candidate(field) is None
    assert htmlmd.markdown_candidate("<p>short</p>") == "x" and tried == [len("<p>short</p>")]


@pytest.mark.parametrize("html, markdown", [
    ("<p>What is <strong>2+2</strong>?</p>", "What is **2+2**?"),
    ("<p>4<br>\nindeed \\(x^2\\)</p>", "4<br>\nindeed $x^2$"),
    ("<ul>\n<li>one</li>\n<li>two <em>it</em></li>\n</ul>", "- one\n- two *it*"),
    ("<p>cost $5, snake_case * star</p>", "cost \\$5, snake_case \\* star"),
])
def test_markdown_candidates_render_back_exactly(html, markdown):
    from cardsmith.boundary import Boundary
    from cardsmith.commands.htmlmd import markdown_candidate
    from cardsmith.model import FieldText, ResolvedNote
    from cardsmith.render import Renderer

    assert markdown_candidate(html) == markdown
    note = ResolvedNote("x", "basic", (), Path("a.md"), "a.md", 1, 2, "g", (FieldText("Front", markdown, 1),), "Deck")
    rendered, problems = Renderer(Boundary(Path("."))).render(note)
    assert not problems and rendered.fields == (html,)


def test_sigterm_removes_the_temporary_folders(project, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from test_import_hostile import BASIC_ID, collection_bytes, package

    notes = [(f"g{i}", BASIC_ID, [f"Question {i}?", f"Answer {i}"], "", 10) for i in range(20000)]
    apkg = package(tmp_path / "big.apkg", collection_bytes(tmp_path, notes=notes))
    (project.root / "decks/test.yaml").unlink()
    temp = tmp_path / "temp"
    temp.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "cardsmith", "import", "--root", str(project.root), "--out",
                                str(project.root / "cards/big"), str(apkg)], env={**os.environ, "TMPDIR": str(temp)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(temp.iterdir()) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before it could be interrupted"
    time.sleep(0.5)  # into the work
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 128 + signal.SIGTERM
    assert list(temp.iterdir()) == []
    assert not (project.root / "cards/big").exists()


def test_a_zstd_bomb_is_refused_before_more_than_the_limit_is_unpacked(tmp_path):
    import io
    import zipfile

    import zstandard

    from cardsmith.anki.apkg import _copy_member
    from cardsmith.errors import BuildError

    streamed = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(streamed, closefd=False) as writer:  # no content size: streamed
        for _ in range(64):
            writer.write(b"\0" * (1 << 20))
    declared = zstandard.ZstdCompressor().compress(b"\0" * (64 << 20))  # says its 64 MB in its header
    path = tmp_path / "bomb.apkg"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("streamed", streamed.getvalue())
        archive.writestr("declared", declared)
        archive.writestr("plain", b"\0" * (64 << 20), zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(path) as archive:
        for member, compressed, written in (("streamed", True, 1 << 20), ("declared", True, 0), ("plain", False, 0)):
            sink = io.BytesIO()
            with pytest.raises(BuildError, match="too big"):
                _copy_member(archive, member, sink, 1 << 20, "bomb.apkg", "too big", compressed)
            assert len(sink.getvalue()) <= written, member


@pytest.mark.parametrize("tag", ["a;b", 'q"q', "x-->y", "a\u2028b", "no\xa0break", "日本語", "a\\b", "😀", "\U000e0041"])
def test_any_tag_anki_keeps_is_written_and_read_back(tag):
    from cardsmith.parse import parse_text, tag_text

    written = tag_text(tag)
    assert "-->" not in written and not any(c.isspace() for c in written)
    parsed = parse_text(f"## Q\n<!-- id: q; tags: plain {written} -->\n\nA\n", Path("a.md"), "a.md")
    assert not parsed.problems and parsed.notes[0].tags == ("plain", tag)


@pytest.mark.parametrize("text, first, html", [
    ("```{=html}\n<b>x</b>\n```", False, "<b>x</b>"),
    ("```{=html}\n```", False, ""),
    ("````{=html}\n```\n  two\n\n````", False, "```\n  two\n"),
    ("<b>x</b>  {=html}", True, "<b>x</b> "),
    ("{=html}\n```{=html}\nline one\nline two\n```", True, "line one\nline two"),
    ("```{=html}\nnot closed", False, None),
    ("```html\n<b>code</b>\n```", False, None),
    ("text\n```{=html}\n<b>x</b>\n```", False, None),
    ("<b>x</b> {=html}", False, None),
])
def test_raw_form(text, first, html):
    from cardsmith.rawform import raw_block, raw_html

    assert raw_html(text, first) == html
    if html is not None and not first:
        assert raw_html(raw_block(html)) == html


@pytest.mark.parametrize("html", ["<b>x</b>", " leading space", "trailing space ", "two\nlines", "", "``` fence",
                                  "ends with {=html}", "\u2028", "## heading", "a\n\n\nb", "````\n```"])
def test_raw_text_is_read_back_exactly_as_the_first_field_and_any_other(html):
    """The one writer of raw form (import and pull): what it writes, the parser reads back byte for byte, and a
    heading holds only one line without a leading space (the parser strips a heading's text)."""
    from cardsmith.rawform import raw_html, raw_text

    for first in (True, False):
        written = raw_text(html, first)
        assert raw_html(written, first) == html
        if first and "\n" not in written:
            assert written == f"{html} {{=html}}" and html == html.lstrip()


def test_slugs_are_unique_and_readable():
    taken: set[str] = set()
    assert unique(slug("What is the Kullback–Leibler divergence, in words?"), taken) == \
        "what-is-the-kullback-leibler-divergence-in-words"
    assert unique(slug("What is the Kullback–Leibler divergence, in words?"), taken) == \
        "what-is-the-kullback-leibler-divergence-in-words-2"
    assert len(slug("word " * 40)) <= 48
    assert re.fullmatch(r"[a-z0-9-]+", slug("Ελληνικά and 日本語 too"))


def test_the_round_trip_script_passes_an_exact_deck_and_fails_one_that_is_not(collection, tmp_path):
    """scripts/import_roundtrip.py, which docs/import.md's table of public decks comes from, on a deck made here."""
    import subprocess
    import sys

    from conftest import REPO
    from test_import_hostile import BASIC_ID, collection_bytes, package

    from anki.collection import Collection

    count = make_deck(collection, tmp_path)
    exact = export(collection, tmp_path / "physik.apkg", legacy=False)
    (tmp_path / "one").mkdir()
    single = Collection(str(tmp_path / "one" / "collection.anki2"))  # "1 note": the script reads that too
    note = single.new_note(single.models.by_name("Basic"))
    note.fields = ["One?", "Yes."]
    single.add_note(note, single.decks.id(TOP))
    one = export(single, tmp_path / "one.apkg", legacy=False)
    single.close()
    (tmp_path / "cr").mkdir()
    inexact = package(tmp_path / "cr.apkg", collection_bytes(tmp_path / "cr", notes=[
        ("cr", BASIC_ID, ["Windows line end?", "a\r\nb"], "", 10)]))
    done = subprocess.run([sys.executable, str(REPO / "scripts/import_roundtrip.py"), str(exact), str(one),
                           str(inexact)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"ok   physik.apkg: {count} notes exact; 0 new, 0 updated, 0 conflicting; "), lines
    assert lines[1].startswith("ok   one.apkg: 1 note exact; 0 new, 0 updated, 0 conflicting; "), lines
    assert "changed: nothing" in lines[0] and lines[2].startswith("FAIL cr.apkg: import --verify failed (1)"), lines


def test_media_of_audio_video_and_object_tags_are_kept_and_a_missing_one_said(project, tmp_path):
    """Anki counts <audio>, <video>, <source> and <object data> files as media, as it does images: the import keeps
    them under their names, the build packages them so and finds them, and one the package lacks is said."""
    from test_import_hostile import BASIC_ID, collection_bytes, package
    from test_media_folder import media_of

    notes = [("g1", BASIC_ID, ["Listen?", '<audio controls src="a.mp3"></audio>'], "", 10),
             ("g2", BASIC_ID, ["Watch?", '<video><source src="lost.mp4"></video> <object data="d.pdf"></object>'],
              "", 10)]
    (project.root / "decks/test.yaml").unlink()
    apkg = package(tmp_path / "av.apkg", collection_bytes(tmp_path, notes=notes),
                   media={"a.mp3": b"ID3 audio", "d.pdf": b"%PDF-1.4"})
    result = project.run("import", "--out", str(project.root / "cards/av"), "--verify", str(apkg))
    assert result.exit_code == 0, result.output
    assert "uses the media file 'lost.mp4', which the package lacks" in result.output
    assert "missing_media:\n- lost.mp4\n" in (project.root / "decks/av.yaml").read_text()
    assert project.run("check", "--strict").exit_code == 0
    assert "every note exact" in result.output or "byte for byte" in result.output, result.output
    built = project.build()
    assert "av.yaml:0" not in built.output and "note: media file not found: lost.mp4" in built.output, built.output
    assert media_of(project.dist / "av.apkg") == {"a.mp3": b"ID3 audio", "d.pdf": b"%PDF-1.4"}
