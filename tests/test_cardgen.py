"""cardgen.py makes exactly the cards the real `anki` package makes for the same note (issue 13, item 3).

Each case adds a note type with the given fronts to a real collection, adds a note with `col.add_note`
(as Anki desktop's Add window does) and compares the ordinals of its cards with CardRule.cards.
"""

from __future__ import annotations

import itertools

import pytest

from cardsmith import cardgen

STANDARD_FRONTS = {
    "one field": ["{{A}}"],
    "two cards": ["{{A}}", "{{B}}"],
    "optional reverse": ["{{A}}", "{{#B}}{{A}}{{/B}}"],
    "section": ["{{#A}}{{B}}{{/A}}"],
    "negated section": ["{{^A}}{{B}}{{/A}}", "{{A}}"],
    "negated text only": ["{{^A}}static{{/A}}{{B}}"],
    "type filter": ["{{type:B}}", "{{A}}"],
    "other filters": ["{{text:A}}", "{{hint:B}}{{furigana:C}}"],
    "tags": ["{{A}}", "{{Tags}}"],
    "deck": ["{{A}}", "{{Deck}} {{Card}}"],
    "front side": ["{{A}}", "{{FrontSide}}{{B}}"],
    "nested sections": ["{{#A}}{{#B}}{{C}}{{/B}}{{/A}}", "{{C}}"],
    "comment": ["{{A}}<!-- {{B}} -->", "{{C}}<!-- {{A}} -->"],
    "spaces and braces": ["{{ A }}", "{{#  B }}{{{C}}}{{/B}}"],
    "alternative syntax": ["{{=<% %>=}}<%A%>", "{{=<% %>=}}<%#B%><%C%><%/B%>"],
}
VALUES = ["", "x", "<br>", "&nbsp;", " <div></div>\n<BR />"]
CLOZE_TEXTS = ["", "plain", "{{c1::a}}", "{{c2::a}} {{c1::b}} {{c2::c}}", "{{c0::a}}", "{{c1,3::a}}",
               "{{c1::a {{c2::b}} }}", "{{c1::not closed", "{{c700::a}}", "{{c1::}}", "{{c1::x::hint}}",
               "{{c70000::a}} {{c,::b}}", "{{c3::\\(\\frac{1}{2} \\)}}"]


@pytest.fixture(scope="module")
def col(tmp_path_factory):
    from anki.collection import Collection

    collection = Collection(str(tmp_path_factory.mktemp("cardgen") / "collection.anki2"))
    yield collection
    collection.close()


def add_notetype(col, name: str, fields: list[str], fronts: list[str], cloze: bool = False):
    models = col.models
    model = models.new(name)
    model["type"] = 1 if cloze else 0
    for field in fields:
        models.add_field(model, models.new_field(field))
    for index, front in enumerate(fronts):
        template = models.new_template(f"Card {index + 1}")
        template["qfmt"] = front
        template["afmt"] = front if cloze else "{{FrontSide}}"
        models.add_template(model, template)
    models.add(model)
    return models.by_name(name)


def anki_cards(col, model, values: dict[str, str], tags: tuple[str, ...] = ()) -> tuple[int, ...]:
    note = col.new_note(model)
    for name, value in values.items():
        note[name] = value
    note.tags = list(tags)
    col.add_note(note, 1)
    return tuple(sorted(card.ord for card in note.cards()))


@pytest.mark.parametrize("shape", sorted(STANDARD_FRONTS))
def test_standard_cards_are_ankis(col, shape):
    # A last template on a field Z of its own: with Z filled, what the others make is seen apart from the
    # card 1 Anki adds to a note that would have none (with Z empty).
    fronts = STANDARD_FRONTS[shape] + ["{{Z}}"]
    model = add_notetype(col, f"standard {shape}", ["A", "B", "C", "Z"], fronts)
    rule = cardgen.card_rule(["A", "B", "C", "Z"], fronts, cloze=False)
    compared = set()
    for values in itertools.product(VALUES, VALUES, VALUES, ["", "z"]):
        for tags in ((), ("t",)):
            ours = rule.cards(values, bool(tags))
            assert ours == anki_cards(col, model, dict(zip("ABCZ", values)), tags), (shape, values, tags)
            compared.add(ours)
    assert len(compared) > 2  # the values really change what Anki makes


@pytest.mark.parametrize("fronts", [["{{cloze:Text}}"], ["{{cloze:Text}}{{cloze:Extra}}"]])
def test_cloze_cards_are_ankis(col, fronts):
    model = add_notetype(col, f"cloze {len(fronts[0])}", ["Text", "Extra", "Source"], fronts, cloze=True)
    rule = cardgen.card_rule(["Text", "Extra", "Source"], fronts, cloze=True)
    for text, extra, source in itertools.product(CLOZE_TEXTS, ["", "{{c4::x}}"], ["", "{{c2::y}}"]):
        values = {"Text": text, "Extra": extra, "Source": source}
        assert rule.cards(list(values.values())) == anki_cards(col, model, values), values


def test_field_is_empty_is_ankis(col):
    model = add_notetype(col, "emptiness", ["Z", "A"], ["{{Z}}", "{{A}}"])
    values = ["", " \t\n\x0b\x0c\r", "<br>", "<BR/>", "</br>", "<br />", "<div></div>", "<div><br></div>", "<DIV/>",
              "&nbsp;", "\xa0", "\u3000", "<p></p>", "<span></span>", "<div class='x'></div>", "<!-- -->", "x"]
    for value in values:
        made = anki_cards(col, model, {"Z": "z", "A": value})
        assert cardgen.field_is_empty(value) == (made == (0,)), repr(value)


def test_required_fields():
    basic = cardgen.card_rule(["Front", "Back"], ["{{Front}}"], cloze=False)
    optional = cardgen.card_rule(["Front", "Back", "Add Reverse"],
                                 ["{{Front}}", "{{#Add Reverse}}{{Back}}{{/Add Reverse}}"], cloze=False)
    cloze = cardgen.card_rule(["Text", "Back Extra"], ["{{cloze:Text}}"], cloze=True)
    tags = cardgen.card_rule(["Front"], ["{{Front}}", "{{Tags}}"], cloze=False)
    assert basic.required() == ("Front",)
    assert optional.required() == ()  # Back with Add Reverse makes card 2 without Front
    assert cloze.required() == ("Text",) and cloze.cloze_fields == ("Text",)
    assert tags.required(has_tags=False) == ("Front",) and tags.required(has_tags=True) == ()


def test_template_errors():
    for bad in ("{{#A}}x", "{{/A}}", "{{#A}}{{/B}}"):
        with pytest.raises(cardgen.TemplateError):
            cardgen.parse_template(bad)


def test_deletions_and_reveal():
    text = "A {{c1::b::hint}} and {{c2,3::x {{c4::y}}::h}} {{c0::z}} }}"
    found = cardgen.deletions(text)
    assert [(d.numbers, d.answer, d.hint) for d in found] == [
        ((1,), "b", "hint"), ((2, 3), "x {{c4::y}}", "h"), ((0,), "z", None)]
    assert cardgen.cloze_numbers(text) == {1, 2, 3, 4}
    assert cardgen.reveal(text, lambda d: f"[{d.answer}]") == "A [b] and [x {{c4::y}}] [z] }}"
