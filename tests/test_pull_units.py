"""The stages of `cardsmith pull` with logic of their own: an edit in Anki applied to the card's Markdown
(fieldsource.patch), tags written into an id comment, and which card files a deck's pattern takes."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from cardsmith.boundary import Boundary
from cardsmith.commands.cardlines import set_tags
from cardsmith.commands.fieldsource import patch
from cardsmith.commands.pull import _matches
from cardsmith.model import FieldText
from cardsmith.parse import parse_text
from cardsmith.render import Renderer

MARKDOWN = "Without one, any stack of layers is a linear map $W_2 W_1 x$, see ![plot](img/p.png)."


def render(text: str) -> str:
    """Markdown -> HTML as the build renders a field (without packaging its media)."""
    problems: list = []
    html = Renderer(Boundary(Path(".")))._markdown_field(FieldText("Back", text, 1), "a.md", problems)
    assert html is not None and not problems
    return html


def same(text: str) -> str:
    return text


@pytest.mark.parametrize("edit, expected", [
    (lambda h: h.replace("any stack", "<b>any</b> stack"), "Without one, <b>any</b> stack"),
    (lambda h: h.replace("W_1 x", "W_1 x + b"), "map $W_2 W_1 x + b$, see"),
    (lambda h: h.replace(" \\(W_2 W_1 x\\)", ""), "linear map, see"),
    (lambda h: h.replace(", see", ", e.g. \\(y = \\frac{a}{b}\\), see"), "$W_2 W_1 x$, e.g. $y = \\frac{a}{b}$, see"),
    (lambda h: h.replace("Without one", "Without one (*really*: 2_x)"), "Without one (\\*really\\*: 2\\_x), any"),
    (lambda h: h.replace("</p>", " Salt &amp; pepper.</p>"), "![plot](img/p.png). Salt &amp; pepper."),
    (lambda h: h.replace("any stack of layers ", ""), "Without one, is a linear"),
])
def test_an_edit_in_anki_is_applied_to_the_cards_own_markdown(edit, expected):
    old_html = render(MARKDOWN)
    new_html = edit(old_html)
    patched = patch(MARKDOWN, old_html, new_html, same)
    assert patched is not None and expected in patched
    assert render(patched) == new_html  # what pull checks before it keeps a text


def test_an_edit_that_does_not_map_onto_the_markdown_is_none():
    old_html = render("- one\n- two")
    assert patch("- one\n- two", old_html, "<p>one, two</p>", same) is None  # the list's markup is not text
    assert patch("Same.", render("Same."), render("Same."), same) is None  # no edit at all


def test_an_edit_of_repetitive_text_gives_up_after_a_fixed_amount_of_work():
    # The alignment's work grows with the cube of the length on repetitive text (2,000 characters of `ab ab …`
    # took 51 s): past a fixed amount of work patch gives up, and pull converts the field whole.
    written = " ".join(["ab"] * 700)
    assert patch(written, render(written), render(" ".join(["ba"] * 700)), same) is None
    prose = " ".join(["the gradient of the loss with respect to the weights"] * 20)  # 1,000 characters, repetitive
    patched = patch(prose, render(prose), render(prose.replace("loss", "cost", 1)), same)
    assert patched == prose.replace("loss", "cost", 1)


def test_media_that_an_edit_adds_are_named_by_their_paths():
    old_html = render("A plot:")
    new_html = old_html.replace(":", ': <img src="p-0123456789ab.png">')
    patched = patch("A plot:", old_html, new_html, lambda h: h.replace("p-0123456789ab.png", "img/p.png"))
    assert patched == 'A plot: <img src="img/p.png">'


def card_line(comment: str) -> tuple[list[str], object]:
    text = f"## Q?\n{comment}\n\nA.\n"
    return text.splitlines(keepends=True), parse_text(text, Path("a.md"), "a.md").notes[0]


@pytest.mark.parametrize("comment, tags, expected", [
    ("<!-- id: q -->", ["a::b"], "<!-- id: q; tags: a::b -->"),
    ("<!-- id: q; tags: x  -->", ["x", "y"], "<!-- id: q; tags: x y  -->"),
    ("<!-- id: q; tags: x; type: basic -->", ["y"], "<!-- id: q; tags: y; type: basic -->"),
    ("<!-- id: q; tags: x -->", [], "<!-- id: q -->"),
    ("<!-- tags: x; id: q -->", [], "<!-- id: q -->"),
    ("<!-- id: q; guid: a;b -->", ["t"], "<!-- id: q; tags: t; guid: a;b -->"),
    ("<!-- id: q; tags: x; guid: tags: no -->", ["z"], "<!-- id: q; tags: z; guid: tags: no -->"),
    # a tag the id comment cannot hold as it is is quoted, as the import writes it (parse.tag_text)
    ('<!-- id: q; tags: "a;b" x; type: basic -->', ["a;b", "y"], '<!-- id: q; tags: "a;b" y; type: basic -->'),
    ("<!-- id: q -->", ["c;d", "e-->f"], '<!-- id: q; tags: "c;d" "e--\\u003ef" -->'),
    ('<!-- id: q; tags: "a;b" -->', [], "<!-- id: q -->"),
])
def test_tags_are_written_into_the_id_comment_and_its_other_parts_kept(comment, tags, expected):
    lines, source = card_line(comment)
    new = set_tags(lines, source, tags)
    assert new[1] == expected + "\n"
    assert list(parse_text("".join(new), Path("a.md"), "a.md").notes[0].tags) == tags  # read back as written
    reread = parse_text("".join(new), Path("a.md"), "a.md").notes[0]
    assert list(reread.tags) == tags and reread.card_id == "q" and reread.guid == source.guid


@pytest.mark.parametrize("relative, pattern, taken", [
    ("test/new.md", "test/*.md", True),
    ("test/sub/new.md", "test/*.md", False),
    ("test/sub/new.md", "test/**/*.md", True),
    ("test/new.md", "test/**/*.md", True),
    ("other/new.md", "test/*.md", False),
    ("test/new.txt", "test/*.md", False),
])
def test_which_card_files_a_decks_pattern_takes(relative, pattern, taken, tmp_path):
    assert _matches(PurePosixPath(relative), pattern) is taken
    path = tmp_path / relative  # the same answer as the build's own search (Path.glob)
    path.parent.mkdir(parents=True)
    path.write_text("")
    assert (path in tmp_path.glob(pattern)) is taken
