"""Issue 2: Markdown cards -> .apkg that the real Anki backend imports and updates in place."""

from __future__ import annotations

import re

from conftest import assert_integrity, assert_renders_cleanly, import_apkg, notes_by_front, review_all

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

CARDS = r"""
---
subdeck: Basics
tags: [category::basics]
---

## What is the derivative of $\sigma(x)$ when $x_1 < x_2$ & *more*?
<!-- id: sigmoid-derivative; tags: level::basic -->

$\sigma(x)\,(1-\sigma(x))$, with $a_{ij} * b_{ij}$ and $\{x\}$ kept intact.

It costs $5 and $10, and \$ is a dollar.

$$
\frac{\partial L}{\partial w}
  = \sum_i x_i
$$

## What does this code print?
<!-- id: code-question; tags: level::advanced -->

```python
price = "$x$"
print(price)
```

---

It prints `$x$`: dollars in code are never math. ![a plot](img/dot.png)

## Softmax is {{c1::$\frac{e^{z_i}}{\sum_j e^{z_{j}}}$}}.
<!-- id: softmax-cloze; type: cloze -->

Subtract $\max_j z_j$ first for numerical stability.

## Reversible: ReLU
<!-- id: relu-reversed; type: basic-reversed -->

$\max(0, x)$
"""


def write_sample(project, cards: str = CARDS) -> None:
    project.write({"cards/test/basics.md": cards, "cards/test/img/dot.png": PNG})


def test_build_imports_into_anki(project, collection):
    write_sample(project)
    result = project.build()
    assert re.search(r"Test Deck: 5 cards, 4 notes, 1 media -> dist/test.apkg \(\d+\.\d s\)", result.output)
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.new) == 4 and not log.conflicting and not log.duplicate

    notes = {collection.get_note(nid).guid: collection.get_note(nid) for nid in collection.find_notes("")}
    assert len(notes) == 4
    cards = [collection.get_card(cid) for cid in collection.find_cards("")]
    assert len(cards) == 5
    assert {collection.decks.name(c.did) for c in cards} == {"Test Deck::Basics"}
    by_id = {}
    for card in cards:
        note = card.note()
        assert "category::basics" in note.tags
        question, answer = assert_renders_cleanly(card)
        by_id.setdefault(note.note_type()["name"], []).append((note, question, answer))

    note, question, answer = next(x for x in by_id["cardsmith Basic"] if "derivative" in x[1])
    assert note.tags == ["category::basics", "level::basic"]
    # Math reaches Anki as \( \) and \[ \], untouched by Markdown, with <, >, & escaped.
    assert r"\(\sigma(x)\)" in question
    assert r"\(x_1 &lt; x_2\) &amp; <em>more</em>" in question
    assert r"\(a_{ij} * b_{ij}\)" in answer and r"\(\{x\}\)" in answer
    assert "It costs $5 and $10, and $ is a dollar." in answer
    display = re.search(r"\\\[(.*?)\\\]", answer, re.S).group(1)
    assert "\n" not in display and "<" not in display
    assert r"\frac{\partial L}{\partial w}" in display and r"\sum_i x_i" in display

    note, question, answer = next(x for x in by_id["cardsmith Basic"] if "code" in x[1])
    assert 'class="highlight"' in question and "$x$" in question and r"\(x\)" not in question
    image = re.search(r'<img alt="a plot" src="([^"]+)"', answer).group(1)
    assert re.fullmatch(r"dot-[0-9a-f]{12}\.png", image)
    assert collection.media.have(image)

    note, question, answer = by_id["cardsmith Cloze"][0]
    assert note.tags == ["category::basics"]
    assert "[...]" in question
    # The formula's `}}` is written `} }` so it cannot end the deletion early.
    assert r"\(\frac{e^{z_i} }{\sum_j e^{z_{j} } }\)" in answer
    assert "Subtract" in answer

    reversed_cards = by_id["cardsmith Basic (and reversed card)"]
    assert len(reversed_cards) == 2
    assert_integrity(collection)


def test_update_cycle_keeps_history_and_identity(project, collection):
    write_sample(project)
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    reviewed = review_all(collection, "Test Deck::Basics")
    assert reviewed == 5
    revlog_before = collection.db.all("select id, cid, ease, ivl from revlog order by id")
    ivl_before = dict(collection.db.all("select id, ivl from cards"))
    ids_before = {collection.get_note(n).guid: n for n in collection.find_notes("")}
    assert all(ivl > 0 for ivl in ivl_before.values())

    edited = (CARDS.replace("What is the derivative of", "What is the first derivative of")
                   .replace("Subtract $\\max_j z_j$ first", "Subtract the maximum first"))
    new_top = "\n## What is a new card?\n<!-- id: brand-new -->\n\nIt was inserted at the top.\n"
    edited = edited.replace("---\n\n## What is the first", "---\n" + new_top + "\n## What is the first", 1)
    assert "brand-new" in edited
    write_sample(project, edited)
    result = project.build("-v")
    assert "1 new, 2 changed, 2 unchanged, 0 deleted, 0 moved" in result.output

    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.new) == 1 and len(log.updated) == 2 and len(log.duplicate) == 2
    assert not log.conflicting
    notes = {collection.get_note(n).guid: collection.get_note(n) for n in collection.find_notes("")}
    assert len(notes) == 5
    # The edited notes changed in place: same note ids, new text.
    for guid, nid in ids_before.items():
        assert notes[guid].id == nid
    fronts = notes_by_front(collection)
    assert any("first derivative" in f for f in fronts)
    assert not any("What is the derivative" in f for f in fronts)
    new_note = next(n for f, n in fronts.items() if "new card" in f)
    assert "inserted at the top" in new_note.fields[1]
    # No note holds another card's content: each GUID kept its own question.
    expected = {"derivative": "sigma(x)\\,(1-", "code": "never math", "Softmax": "maximum first",
                "ReLU": "max(0, x)"}
    for guid, nid in ids_before.items():
        note = notes[guid]
        keys = [k for k in expected if k in note.fields[0]]
        assert len(keys) == 1, note.fields
        assert expected[keys[0]] in note.fields[1], note.fields
    cloze = next(n for n in notes.values() if "Softmax" in n.fields[0])
    assert cloze.fields[1] == "<p>Subtract the maximum first for numerical stability.</p>"
    # Review history is untouched.
    assert collection.db.all("select id, cid, ease, ivl from revlog order by id") == revlog_before
    ivl_after = dict(collection.db.all("select id, ivl from cards"))
    assert {cid: ivl for cid, ivl in ivl_after.items() if cid in ivl_before} == ivl_before
    assert_integrity(collection)


def test_css_and_template_change_updates_note_type_in_place(project, collection):
    write_sample(project)
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    model_ids = sorted(m.id for m in collection.models.all_names_and_ids())
    (project.root / "templates/basic/style.css").write_text(".cs-card { color: rebeccapurple; }\n")
    front = project.root / "templates/basic/front.html"
    front.write_text(front.read_text() + "<div class=\"footer\">cardsmith</div>\n")
    result = project.build("-v")
    assert "note type changed: basic" in result.output
    log = import_apkg(collection, project.dist / "test.apkg")
    assert not log.conflicting and not log.new
    assert sorted(m.id for m in collection.models.all_names_and_ids()) == model_ids
    model = collection.models.by_name("cardsmith Basic")
    assert "rebeccapurple" in model["css"]
    assert "footer" in model["tmpls"][0]["qfmt"]
    card = collection.get_card(collection.find_cards('"note:cardsmith Basic"')[0])
    assert "footer" in card.question()
    assert_integrity(collection)


def test_second_build_is_up_to_date(project):
    write_sample(project)
    project.build()
    before = (project.dist / "test.apkg").read_bytes()
    result = project.build()
    assert "Test Deck: up to date (4 notes) -> dist/test.apkg" in result.output
    assert (project.dist / "test.apkg").read_bytes() == before


def test_a_damaged_or_replaced_package_is_rebuilt(project):
    """The stamp knows the package it describes: a truncated package, or other bytes in its place (even of the
    same size and time), is written again; --no-cache always writes it."""
    import os

    write_sample(project)
    project.build()
    apkg = project.dist / "test.apkg"
    good = apkg.read_bytes()
    apkg.write_bytes(good[:len(good) // 2])
    assert "up to date" not in project.build().output
    assert apkg.read_bytes() == good
    stat = apkg.stat()
    apkg.write_bytes(bytes(len(good)))  # other bytes, same size and time
    os.utime(apkg, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "up to date" not in project.build().output
    assert apkg.read_bytes() == good
    apkg.unlink()
    apkg.mkdir()  # not a file: never read as one
    result = project.run("build")
    assert result.exit_code == 1 and "Traceback" not in result.output
    apkg.rmdir()
    project.build()
    mtime = apkg.stat().st_mtime_ns
    assert "up to date" in project.build().output and apkg.stat().st_mtime_ns == mtime
    result = project.build("--no-cache")
    assert "up to date" not in result.output and apkg.stat().st_mtime_ns != mtime
    assert apkg.read_bytes() == good


def test_building_an_unknown_deck_name_fails(project):
    write_sample(project)
    result = project.run("build", "no-such-deck")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "decks:0: no deck named no-such-deck"
