"""Issue 7: `cardsmith import deck.apkg` -> card files that rebuild into the same notes, in place."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from cardsmith.commands.htmlmd import lines_of, render, to_markdown
from cardsmith.parse import slug, unique
from conftest import assert_integrity, import_apkg

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

NOTES = [  # (stock note type, deck, fields, tags)
    ("Basic", "Shared", ["What is <b>2+2</b>?", "4<br>indeed \\(x^2 < y\\)"], ["math"]),
    ("Basic", "Shared", ["What is <b>2+2</b>?", "Same question again, another note"], []),
    ("Basic", "Shared::Geo", ["Where is this? <img src=\"map 1.png\">", "<div>Paris</div><div>France</div>"],
     ["geo", "level::easy"]),
    ("Basic", "Shared::Geo", ["<table><tr><td>a</td></tr></table>", "kept as <i>HTML</i>"], []),
    ("Basic (and reversed card)", "Shared", ["chien", "dog"], ["lang"]),
    ("Cloze", "Shared", ["The sigmoid is {{c1::\\(\\frac{1}{1+e^{-x}}\\)}}", ""], []),
    ("Cloze", "Shared::Geo", ["Paris is the {{c1::capital::city}} of {{c2::France}}", "Extra <b>info</b>"], []),
]


def make_shared_deck(col, out: Path, legacy: bool) -> None:
    """A deck made in Anki with the stock note types, exported as Anki does."""
    from anki.collection import DeckIdLimit, ExportAnkiPackageOptions

    col.media.write_data("map 1.png", PNG)
    for notetype, deck, fields, tags in NOTES:
        note = col.new_note(col.models.by_name(notetype))
        note.fields[:] = fields
        note.tags = tags
        col.add_note(note, col.decks.id(deck))
    col.export_anki_package(out_path=str(out), limit=DeckIdLimit(col.decks.id("Shared")),
                            options=ExportAnkiPackageOptions(with_scheduling=True, with_media=True, legacy=legacy))


@pytest.mark.parametrize("legacy", [False, True], ids=["anki21b", "legacy"])
def test_round_trip_updates_original_notes_in_place(project, collection, tmp_path, legacy):
    package = tmp_path / "shared.apkg"
    make_shared_deck(collection, package, legacy)
    before = {collection.get_note(n).guid: collection.get_note(n) for n in collection.find_notes("")}
    cards_before = collection.card_count()
    notetypes_before = sorted((m.id, m.name) for m in collection.models.all_names_and_ids())
    (project.root / "decks/test.yaml").unlink()

    result = project.run("import", "--out", str(project.root / "cards/shared"), str(package))
    assert result.exit_code == 0, result.output
    assert "7 notes imported: 12 fields as Markdown, 1 kept as inline HTML" in result.output
    written = (project.root / "cards/shared/main.md").read_text()
    assert "## What is **2+2**?\n<!-- id: what-is-2-2; type: anki-basic; tags: math; guid: " in written
    assert "<!-- id: what-is-2-2-2; type: anki-basic; guid: " in written
    assert "indeed $x^2 &lt; y$" not in written and "indeed $x^2 < y$" in written
    assert "## The sigmoid is {{c1::$\\frac{1}{1+e^{-x}}$}}" in written
    geo = (project.root / "cards/shared/geo.md").read_text()
    assert geo.startswith("---\nsubdeck: Geo\n---\n")
    assert "## Where is this? ![](media/map%201.png)" in geo and "Paris<br>\nFrance" in geo
    assert '## <div class="cs-imported"><table>' in geo
    assert (project.root / "cards/shared/media/map 1.png").read_bytes() == PNG
    deck_yaml = (project.root / "decks/shared.yaml").read_text()
    assert "name: Shared\n" in deck_yaml and "- shared/*.md" in deck_yaml
    for key in ("anki-basic", "anki-basic-and-reversed-card", "anki-cloze"):
        assert (project.root / "templates" / key / "notetype.yaml").exists()

    # The notes were made this very second; a real migration happens later (Anki updates only when newer).
    built = project.build(env={"SOURCE_DATE_EPOCH": str(int(time.time()) + 2)})
    assert "Shared: 9 cards, 7 notes, 1 media" in built.output
    log = import_apkg(collection, project.dist / "shared.apkg")
    assert not log.new and not log.conflicting and not log.duplicate
    assert len(log.updated) == 7
    after = {collection.get_note(n).guid: collection.get_note(n) for n in collection.find_notes("")}
    assert set(after) == set(before)
    assert collection.card_count() == cards_before
    assert sorted((m.id, m.name) for m in collection.models.all_names_and_ids()) == notetypes_before
    for guid, note in after.items():
        assert note.id == before[guid].id and note.mid == before[guid].mid
        assert note.tags == before[guid].tags
        for old, new in zip(before[guid].fields, note.fields):
            assert lines_of(new) == lines_of(old.replace('"map 1.png"', '"MEDIA"')) or "<img" in old, (old, new)
    image_note = next(n for n in after.values() if "Where is this" in n.fields[0])
    name = re.search(r'src="([^"]+)"', image_note.fields[0]).group(1)
    assert collection.media.have(name)
    # Rebuilt unchanged: a second import is a no-op.
    log = import_apkg(collection, project.dist / "shared.apkg")
    assert not log.new and not log.updated and not log.conflicting
    assert_integrity(collection)


def test_import_errors_are_one_line(project, tmp_path):
    bad = tmp_path / "bad.apkg"
    bad.write_text("not a zip")
    result = project.run("import", "--out", str(project.root / "cards/x"), str(bad))
    assert result.exit_code == 1
    assert result.output.startswith(f"{bad}:0: not an Anki package")
    result = project.run("import", "--out", str(tmp_path / "elsewhere"), str(bad))
    assert result.exit_code == 1 and "--out must be a folder inside" in result.output


@pytest.mark.parametrize("html, expected", [
    ("What is <b>2+2</b>?", "What is **2+2**?"),
    ("4<br>indeed \\(x^2\\)", "4<br>\nindeed $x^2$"),
    ("\\[\\frac{a}{b}\\]", "$$\n\\frac{a}{b}\n$$"),
    ("<div>a</div><div><br></div><div>c &amp; d</div>", "a<br>\n<br>\nc &amp; d"),
    ("<ul><li>one</li><li>two <i>it</i></li></ul>", "- one\n- two *it*"),
    ("cost $5, snake_case * star", "cost \\$5, snake_case \\* star"),
    ('<span style="color: red">red</span> text', '<span style="color: red">red</span> text'),
    ("{{c1::\\(x^{2}\\)::hint}}", "{{c1::$x^{2}$::hint}}"),
    ("- not a list", "\\- not a list"),
])
def test_html_to_markdown_lossless(html, expected):
    text, lossless = to_markdown(html)
    assert (text, lossless) == (expected, True)
    assert lines_of(render(text)) == lines_of(html)


@pytest.mark.parametrize("html", ["<table><tr><td>x</td></tr></table>", "<pre>a\n  b</pre> $x",
                                  "<h3>Title</h3>", "\\(x = {{c1::5}}\\)"])
def test_html_kept_as_one_raw_line_when_markdown_would_change_it(html):
    text, lossless = to_markdown(html)
    assert not lossless and "\n" not in text and "$" not in text
    assert text.startswith('<div class="cs-imported">')


def test_slugs_are_unique_and_readable():
    taken: set[str] = set()
    assert unique(slug("What is the Kullback–Leibler divergence, in words?"), taken) == \
        "what-is-the-kullback-leibler-divergence-in-words"
    assert unique(slug("What is the Kullback–Leibler divergence, in words?"), taken) == \
        "what-is-the-kullback-leibler-divergence-in-words-2"
    assert len(slug("word " * 40)) <= 48
