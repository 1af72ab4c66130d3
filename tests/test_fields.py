"""Issue 13: any note type. Named fields in Markdown (`### Name`), the cards Anki makes, sound and image media,
Anki's LaTeX with a preamble: built, imported into a fresh collection with the real `anki` package, updated."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile

from conftest import assert_integrity, import_apkg

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(64))  # any bytes: Anki only stores the file
PREAMBLE = "\\documentclass[12pt]{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage{mathrsfs}\n\\begin{document}\n"

NOTETYPES = {
    # Word, Reading, Meaning, Example, Audio; a recognition card (from the word) and a production card (from
    # the meaning).
    "templates/vocab/notetype.yaml": """
        id: 1700000101
        name: Vocabulary
        kind: standard
        sort_field: Meaning
        fields:
          - {name: Word, id: 1700000102, font: Noto Sans JP, size: 32}
          - {name: Reading, id: 1700000103}
          - {name: Meaning, id: 1700000104, description: the English word}
          - {name: Example, id: 1700000105}
          - {name: Audio, id: 1700000106}
        templates:
          - {name: Recognition, id: 1700000107, front: recognition.html, back: recognition-back.html}
          - {name: Production, id: 1700000108, front: production.html, back: production-back.html}
        """,
    "templates/vocab/recognition.html": '<div class="cs-card cs-question">{{Word}}</div>\n',
    "templates/vocab/recognition-back.html": ('{{FrontSide}}\n<hr id="answer">\n<div class="cs-card">{{Reading}}'
                                              "{{Meaning}}{{Example}}{{Audio}}</div>\n"),
    "templates/vocab/production.html": '<div class="cs-card cs-question">{{Meaning}}</div>\n',
    "templates/vocab/production-back.html": '{{FrontSide}}\n<hr id="answer">\n<div class="cs-card">{{Word}}{{Audio}}</div>\n',
    # A cloze type with two extra fields.
    "templates/cloze3/notetype.yaml": """
        id: 1700000201
        name: Cloze with source
        kind: cloze
        fields:
          - {name: Text, id: 1700000202}
          - {name: Extra, id: 1700000203}
          - {name: Source, id: 1700000204}
        templates:
          - {name: Cloze, id: 1700000205, front: front.html, back: back.html}
        """,
    "templates/cloze3/front.html": "{{cloze:Text}}\n",
    "templates/cloze3/back.html": "{{cloze:Text}}<hr>{{Extra}}<div class=source>{{Source}}</div>\n",
    # Anki's "Basic (optional reversed card)": card 2 exists only when Add Reverse is filled.
    "templates/optional-reversed/notetype.yaml": """
        id: 1700000301
        name: Basic (optional reversed card)
        fields:
          - {name: Front, id: 1700000302}
          - {name: Back, id: 1700000303}
          - {name: Add Reverse, id: 1700000304}
        templates:
          - {name: Card 1, id: 1700000305, front: front.html, back: back.html}
          - {name: Card 2, id: 1700000306, front: reverse.html, back: reverse-back.html}
        """,
    "templates/optional-reversed/front.html": "{{Front}}\n",
    "templates/optional-reversed/back.html": '{{FrontSide}}<hr id="answer">{{Back}}\n',
    "templates/optional-reversed/reverse.html": "{{#Add Reverse}}{{Back}}{{/Add Reverse}}\n",
    "templates/optional-reversed/reverse-back.html": '{{FrontSide}}<hr id="answer">{{Front}}\n',
    # Anki's LaTeX, with a preamble of its own, as an SVG.
    "templates/latex/notetype.yaml": """
        id: 1700000401
        name: LaTeX
        latex: {preamble: preamble.tex, svg: true}
        fields:
          - {name: Front, id: 1700000402}
          - {name: Back, id: 1700000403}
        templates:
          - {name: Card 1, id: 1700000404, front: front.html, back: back.html}
        """,
    "templates/latex/front.html": "{{Front}}\n",
    "templates/latex/back.html": '{{FrontSide}}<hr id="answer">{{Back}}\n',
    "templates/latex/preamble.tex": PREAMBLE,
}

CARDS = {
    "cards/test/vocab.md": """
        ---
        type: vocab
        ---

        ## 猫
        <!-- id: neko -->

        ### Reading
        ねこ

        ### Meaning
        cat

        ### Audio
        [sound:neko.mp3]

        ## 犬
        <!-- id: inu; tags: animal -->

        いぬ

        ### Meaning
        dog

        ### Example
        ![a dog](img/dog.png) 犬が好きです。

        ### Audio
        [sound:audio/inu.mp3]
        """,
    "cards/test/other.md": """
        ## The capital of {{c1::France}} is {{c2::Paris}}.
        <!-- id: capital; type: cloze3 -->

        A European capital.

        ### Source
        *An atlas*, page 12.

        ## What is the derivative of $x^2$?
        <!-- id: one-way; type: optional-reversed -->

        $2x$

        ## What does ReLU compute?
        <!-- id: both-ways; type: optional-reversed -->

        ### Back
        $\\max(0, x)$

        ### Add Reverse
        y

        ## What is [$]\\int_0^1 x\\,dx[/$]?
        <!-- id: integral; type: latex -->

        [$$]\\frac{1}{2} < 1[/$$], and $\\frac{1}{2}$ for MathJax.
        """,
    "cards/test/img/dog.png": PNG,
    "cards/test/neko.mp3": MP3,
    "cards/test/audio/inu.mp3": MP3 + b"inu",
}


def write(project) -> None:
    project.write({**NOTETYPES, **CARDS})


def package_notes(apkg) -> dict[str, list[str]]:
    """The built package's notes by their first field: their fields."""
    with zipfile.ZipFile(apkg) as archive:
        data = archive.read("collection.anki2")
    db = apkg.parent / "read.anki2"
    db.write_bytes(data)
    conn = sqlite3.connect(db)
    try:
        return {flds.split("\x1f")[0]: flds.split("\x1f") for (flds,) in conn.execute("SELECT flds FROM notes")}
    finally:
        conn.close()
        db.unlink()


def note_by(col, card_id: str):
    """The imported note whose GUID cardsmith made for this card id (in the test deck, id 1234567890)."""
    import genanki

    return col.get_note(col.db.scalar("SELECT id FROM notes WHERE guid = ?", genanki.guid_for(1234567890, card_id)))


def anki_makes(col, note) -> list[int]:
    """The cards Anki makes for a note with these fields (added anew, as Anki desktop's Add window does)."""
    fresh = col.new_note(note.note_type())
    for index, value in enumerate(note.fields):
        fresh.fields[index] = value
    fresh.tags = list(note.tags)
    col.add_note(fresh, col.decks.id_for_name("Default"))
    made = sorted(card.ord for card in fresh.cards())
    col.remove_notes([fresh.id])
    return made


def test_any_note_type_builds_and_imports_with_the_cards_anki_makes(project, collection):
    write(project)
    result = project.build()
    assert "Test Deck: 10 cards, 6 notes, 3 media -> dist/test.apkg" in result.output
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.new) == 6 and not log.conflicting

    neko = note_by(collection, "neko")
    assert neko.keys() == ["Word", "Reading", "Meaning", "Example", "Audio"]
    assert neko["Word"] == "<p>猫</p>" and neko["Reading"] == "<p>ねこ</p>" and neko["Meaning"] == "<p>cat</p>"
    assert neko["Example"] == "" and re.fullmatch(r"<p>\[sound:neko-[0-9a-f]{12}\.mp3\]</p>", neko["Audio"])
    inu = note_by(collection, "inu")
    assert inu["Reading"] == "<p>いぬ</p>" and inu["Meaning"] == "<p>dog</p>" and inu.tags == ["animal"]
    image = re.search(r'<img alt="a dog" src="(dog-[0-9a-f]{12}\.png)"', inu["Example"]).group(1)
    sound = re.search(r"\[sound:(inu-[0-9a-f]{12}\.mp3)\]", inu["Audio"]).group(1)
    for name in (image, sound, re.search(r"sound:([^\]]+)", neko["Audio"]).group(1)):
        assert collection.media.have(name), name

    capital = note_by(collection, "capital")
    assert capital.keys() == ["Text", "Extra", "Source"]
    assert capital["Extra"] == "<p>A European capital.</p>" and capital["Source"] == "<p><em>An atlas</em>, page 12.</p>"
    one_way, both_ways = note_by(collection, "one-way"), note_by(collection, "both-ways")
    assert one_way["Add Reverse"] == "" and both_ways["Add Reverse"] == "<p>y</p>"
    assert both_ways["Back"] == "<p>\\(\\max(0, x)\\)</p>"
    integral = note_by(collection, "integral")
    assert integral["Front"] == "<p>What is [$]\\int_0^1 x\\,dx[/$]?</p>"  # Anki's LaTeX kept as written
    assert integral["Back"] == "<p>[$$]\\frac{1}{2} &lt; 1[/$$], and \\(\\frac{1}{2}\\) for MathJax.</p>"

    # Every note has exactly the cards Anki makes for it: two for each word, one per deletion, the reverse only
    # where it is asked for.
    expected = {"neko": [0, 1], "inu": [0, 1], "capital": [0, 1], "one-way": [0], "both-ways": [0, 1], "integral": [0]}
    for card_id, ords in expected.items():
        note = note_by(collection, card_id)
        imported = sorted(collection.get_card(c).ord for c in note.card_ids())
        assert imported == ords == anki_makes(collection, note), card_id
    assert len(collection.find_cards("")) == 10

    # The note types as declared: options, sort field, LaTeX preamble, SVG.
    vocab = collection.models.by_name("Vocabulary")
    assert (vocab["flds"][0]["font"], vocab["flds"][0]["size"], vocab["flds"][1]["font"]) == ("Noto Sans JP", 32, "Liberation Sans")
    assert vocab["flds"][2]["description"] == "the English word" and vocab["sortf"] == 2
    latex = collection.models.by_name("LaTeX")
    assert latex["latexPre"] == PREAMBLE and latex["latexsvg"] is True
    assert_integrity(collection)


def test_editing_one_field_updates_that_note_in_place(project, collection):
    write(project)
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    ids = {card_id: note_by(collection, card_id).id for card_id in ("neko", "inu", "capital")}
    vocab = project.root / "cards/test/vocab.md"
    vocab.write_text(vocab.read_text(encoding="utf-8").replace("cat\n", "cat (the animal)\n"), encoding="utf-8")
    source = project.root / "cards/test/other.md"
    source.write_text(source.read_text(encoding="utf-8").replace("page 12", "page 13"), encoding="utf-8")
    result = project.build("-v")
    assert "0 new, 2 changed, 4 unchanged" in result.output
    assert "changed: neko" in result.output and "changed: capital" in result.output
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.updated) == 2 and not log.new and not log.conflicting
    assert {card_id: note_by(collection, card_id).id for card_id in ids} == ids
    assert note_by(collection, "neko")["Meaning"] == "<p>cat (the animal)</p>"
    assert note_by(collection, "capital")["Source"] == "<p><em>An atlas</em>, page 13.</p>"
    assert note_by(collection, "neko")["Reading"] == "<p>ねこ</p>"  # the other fields as they were
    assert_integrity(collection)


def test_fields_by_name_in_the_package(project):
    """The package's notes hold each field in its note type's order, whatever the order of the `###` lines."""
    write(project)
    project.write({"cards/test/vocab.md": """
        ## 鳥
        <!-- id: tori; type: vocab -->

        ### Audio
        [sound:neko.mp3]

        ### Meaning
        bird

        ### Reading
        とり
        """})
    project.build()
    fields = package_notes(project.dist / "test.apkg")["<p>鳥</p>"]
    assert fields[1:4] == ["<p>とり</p>", "<p>bird</p>", ""] and fields[4].startswith("<p>[sound:neko-")


def test_html_fields_are_kept_as_written(project, collection):
    project.write({
        "templates/verbatim/notetype.yaml": """
            id: 1700000501
            name: Verbatim
            fields:
              - {name: Front, id: 1700000502}
              - {name: Back, id: 1700000503, format: html}
            templates:
              - {name: Card 1, id: 1700000504, front: front.html, back: back.html}
            """,
        "templates/verbatim/front.html": "{{Front}}", "templates/verbatim/back.html": "{{FrontSide}}<hr>{{Back}}",
        "cards/test/a.md": """
            ## What is *this*?
            <!-- id: this; type: verbatim -->

            <b>Bold</b>&nbsp;and <i>$5</i> * 2 \\(x\\)<br><img src='img/dot.png' width=10>
            """,
        "cards/test/img/dot.png": PNG})
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    note = note_by(collection, "this")
    assert note["Front"] == "<p>What is <em>this</em>?</p>"
    assert re.fullmatch(r"<b>Bold</b>&nbsp;and <i>\$5</i> \* 2 \\\(x\\\)<br><img src=\"dot-[0-9a-f]{12}\.png\" width=10>",
                        note["Back"]), note["Back"]


def test_unknown_field_headings_stay_markdown(project):
    """A `### ` line that names no field of the card's type stays a heading of the field before it."""
    write(project)
    project.write({"cards/test/a.md": """
        ## What are the parts of an atom?
        <!-- id: atom -->

        ### The nucleus
        Protons and neutrons.
        """})
    project.build()
    fields = package_notes(project.dist / "test.apkg")["<p>What are the parts of an atom?</p>"]
    assert fields == ["<p>What are the parts of an atom?</p>", "<h3>The nucleus</h3>\n<p>Protons and neutrons.</p>"]


def test_field_mistakes_are_located(project):
    write(project)
    project.write({"cards/test/a.md": """
        ## What is a vector?
        <!-- id: vector -->

        An arrow.

        ### Back
        A list of numbers.

        ## 魚
        <!-- id: sakana; type: vocab -->

        ### Meening
        fish

        ### Reading
        さかな

        ## 木
        <!-- id: ki -->

        ### Reading
        き

        ### Back
        tree
        """})
    result = project.run("check")
    assert result.exit_code == 1
    fields = "fields of note type 'basic': Front, Back"
    assert f"cards/test/a.md:6: field 'Back' is given twice (first at line 4); {fields}" in result.output
    assert ("cards/test/a.md:12: warning: `### Meening` is not a field of note type 'vocab': did you mean 'Meaning'? "
            "It stays a heading in the field before it (fields of 'vocab': Word, Reading, Meaning, Example, Audio)"
            ) in result.output
    assert ("cards/test/a.md:21: warning: `### Reading` is a field of note type 'vocab', not of this card's "
            "'basic' (its `type:`?) It stays a heading in the field before it (fields of 'basic': Front, Back)"
            ) in result.output
    # The production card needs the meaning: without it, that card is not made; a word with only its reading
    # still makes its recognition card.
    assert "sakana" not in result.output.replace("'sakana'", "")


def test_a_field_every_card_needs_is_refused_when_empty(project):
    project.write({
        "templates/reverse-only/notetype.yaml": """
            id: 1700000601
            name: Reverse only
            fields:
              - {name: Front, id: 1700000602}
              - {name: Back, id: 1700000603}
              - {name: Notes, id: 1700000604}
            templates:
              - {name: Card 1, id: 1700000605, front: front.html, back: back.html}
            """,
        "templates/reverse-only/front.html": "{{Back}}", "templates/reverse-only/back.html": "{{Front}}",
        "cards/test/a.md": """
            ## Ebb
            <!-- id: ebb; type: reverse-only -->

            ### Notes
            The tide going out.
            """})
    for command in ("check", "build"):
        result = project.run(command)
        assert result.exit_code == 1
        assert ("cards/test/a.md:1: field 'Back' is empty, and note type 'reverse-only' makes no card without it "
                "(fields: Front, Back, Notes)") in result.output


def test_a_note_that_makes_no_card_is_warned_about(project):
    project.write({
        "templates/both/notetype.yaml": """
            id: 1700000701
            name: Hint or extra
            fields:
              - {name: Front, id: 1700000702}
              - {name: Back, id: 1700000703}
              - {name: Hint, id: 1700000704}
              - {name: Extra, id: 1700000706}
            templates:
              - {name: Card 1, id: 1700000705, front: front.html, back: back.html}
              - {name: Card 2, id: 1700000707, front: front2.html, back: back.html}
            """,
        "templates/both/front.html": "{{#Hint}}{{Back}}{{/Hint}}", "templates/both/back.html": "{{Front}}",
        "templates/both/front2.html": "{{#Extra}}{{Back}}{{/Extra}}",
        "cards/test/a.md": """
            ## Question
            <!-- id: no-card; type: both -->

            Answer, but no hint.
            """})
    result = project.run("check", "--strict")
    assert result.exit_code == 1
    assert ("cards/test/a.md:1: makes no card: no front of note type 'both' shows a field this note fills (Anki then "
            "adds an empty card 1); fill the fields its templates need (fields: Front, Back, Hint, Extra)") in result.output
    build = project.build()  # a warning: Anki adds card 1, and so does the package
    assert "1 card, 1 note" in build.output


def test_deleted_cards_of_any_note_type_are_shipped_as_tombstones(project, collection, tmp_path):
    """A deleted card's note is shipped with "deleted" in every field its cards show (in a deletion, for a cloze
    type): it keeps its note type, so it updates in place, and every card Anki makes of it says so."""
    write(project)
    project.write({
        "templates/reverse-only/notetype.yaml": """
            id: 1700000601
            name: Reverse only
            fields:
              - {name: Front, id: 1700000602}
              - {name: Back, id: 1700000603}
            templates:
              - {name: Card 1, id: 1700000605, front: front.html, back: back.html}
            """,
        "templates/reverse-only/front.html": "{{Back}}", "templates/reverse-only/back.html": "{{Front}}",
        "cards/test/reverse.md": "## Ebb\n<!-- id: ebb; type: reverse-only -->\n\nThe tide going out.\n"})
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    deleted = ["inu", "capital", "both-ways", "ebb"]
    kept = {card_id: note_by(collection, card_id).id for card_id in deleted}
    vocab = project.root / "cards/test/vocab.md"
    vocab.write_text(vocab.read_text(encoding="utf-8").split("## 犬")[0], encoding="utf-8")
    other = project.root / "cards/test/other.md"
    text = other.read_text(encoding="utf-8")
    other.write_text(text[text.index("## What is the derivative"):text.index("## What does ReLU")]
                     + text[text.index("## What is [$]"):], encoding="utf-8")
    (project.root / "cards/test/reverse.md").unlink()
    result = project.build("--allow-deletions")
    assert "4 deleted" in result.output
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.updated) == 4 and not log.conflicting and not log.new
    for card_id in deleted:
        note = note_by(collection, card_id)
        assert note.id == kept[card_id] and note.tags == ["cardsmith::deleted"], card_id
        cards = sorted((collection.get_card(c) for c in note.card_ids()), key=lambda card: card.ord)
        # A cloze tombstone says it on the answer (its front hides the deletion), on each card the note had (c1 and
        # c2: the lock records a note's cards).
        sides = [card.question() for card in cards] if card_id != "capital" else [card.answer() for card in cards]
        assert len(sides) == 2 if card_id in ("capital", "both-ways") else len(sides) >= 1
        assert all("This card was deleted from the deck" in side for side in sides), card_id
    (tmp_path / "fresh").mkdir()
    from anki.collection import Collection

    fresh = Collection(str(tmp_path / "fresh" / "collection.anki2"))
    try:
        import_apkg(fresh, project.dist / "test.apkg")
        for card_id in deleted:  # a learner's first import: the cards Anki makes of each tombstone, in Deleted cards
            note = note_by(fresh, card_id)
            cards = [fresh.get_card(c) for c in note.card_ids()]
            assert sorted(c.ord for c in cards) == anki_makes(fresh, note), card_id
            assert {fresh.decks.name(c.did) for c in cards} == {"Test Deck::Deleted cards"}
        assert note_by(fresh, "capital")["Text"].startswith("{{c1::<p><b>This card was deleted")
    finally:
        fresh.close()


def test_suspended_tombstones_are_not_kept_by_ankis_default_import(project, tmp_path):
    """Why tombstones are shipped as new cards, not suspended: Anki's importer keeps a card's queue only when it
    imports scheduling, which a learner's first import of a shared deck does not (checked with Anki 26.9.3)."""
    from anki.collection import Collection

    project.write({"cards/test/a.md": "## Gone?\n<!-- id: gone -->\n\nYes.\n\n## Kept?\n<!-- id: kept -->\n\nYes.\n"})
    project.build()
    project.write({"cards/test/a.md": "## Kept?\n<!-- id: kept -->\n\nYes.\n"})
    project.build("--allow-deletions")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(project.dist / "test.apkg") as archive:
        archive.extractall(unpacked)
    conn = sqlite3.connect(unpacked / "collection.anki2")
    conn.execute("UPDATE cards SET queue = -1 WHERE nid IN (SELECT id FROM notes WHERE tags LIKE '%cardsmith::deleted%')")
    conn.commit()
    conn.close()
    suspended = tmp_path / "suspended.apkg"
    with zipfile.ZipFile(suspended, "w") as archive:
        for path in unpacked.iterdir():
            archive.write(path, path.name)
    queues = {}
    for scheduling in (False, True):
        (tmp_path / str(scheduling)).mkdir()
        col = Collection(str(tmp_path / str(scheduling) / "collection.anki2"))
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(suspended), options=ImportAnkiPackageOptions(with_scheduling=scheduling)))
        queues[scheduling] = col.db.list("SELECT c.queue FROM cards c JOIN notes n ON n.id = c.nid "
                                         "WHERE n.tags LIKE '%cardsmith::deleted%'")
        col.close()
    assert queues == {False: [0], True: [-1]}


def test_export_and_preview_show_every_field(project, collection, tmp_path):
    """csv rows of note types with different numbers of fields import into the same notes as the package; the
    handout and the preview show every field."""
    from anki.collection import Collection, ImportCsvRequest

    write(project)
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    expected = {nid: (collection.get_note(nid).guid, collection.get_note(nid).fields) for nid in collection.find_notes("")}
    assert project.run("export", "--format", "csv").exit_code == 0
    text = (project.dist / "test.csv").read_text(encoding="utf-8")
    assert "#tags column:9\n" in text  # guid, note type, deck, five fields (the widest type), tags
    (tmp_path / "csv").mkdir()
    col = Collection(str(tmp_path / "csv" / "collection.anki2"))
    try:
        import_apkg(col, project.dist / "test.apkg")
        col.remove_notes(col.find_notes(""))
        metadata = col.get_csv_metadata(str(project.dist / "test.csv"), None)
        log = col.import_csv(ImportCsvRequest(path=str(project.dist / "test.csv"), metadata=metadata)).log
        assert len(log.new) == 6 and not log.missing_notetype
        got = sorted((col.get_note(n).guid, col.get_note(n).fields) for n in col.find_notes(""))
        assert got == sorted(expected.values())
    finally:
        col.close()

    assert project.run("export", "--format", "markdown").exit_code == 0
    handout = (project.dist / "test.md").read_text(encoding="utf-8")
    assert "### 猫\n\nねこ\n\n**Meaning**\n\ncat\n\n**Audio**\n\n[sound:neko.mp3]\n" in handout
    assert "### The capital of **France** is **Paris**.\n\nA European capital.\n\n**Source**\n\n*An atlas*, page 12." \
        in handout
    preview = project.run("preview")
    assert preview.exit_code == 0, preview.output
    assert preview.output.startswith("Test Deck: 10 cards, 6 notes, 3 media")
    page = (project.dist / "preview" / "index.html").read_text(encoding="utf-8")
    assert '<div class="pv-field">Meaning</div><p>cat</p>' in page
    assert '<span class="cloze" data-cloze="1">[…]</span>' in page and '<div class="pv-field">Source</div>' in page


def test_a_card_its_note_no_longer_makes_is_named_for_empty_cards(project, collection):
    """A released cloze deletion removed (capital's c2) and a reverse card no longer asked for (both-ways' Add
    Reverse emptied): Anki keeps each learner's card, showing "No cloze found" or an empty side. The lock records
    each note's cards, the build names each card gone, and they are exactly Anki's own Empty Cards report once the
    new release is imported."""
    import genanki

    write(project)
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    records = json.loads((project.root / "decks/test.lock").read_text())["cards"]
    assert records["capital"]["cards"] == [0, 1] and records["both-ways"]["cards"] == [0, 1]
    assert "cards" not in records["one-way"]  # one card, its first template's: the usual record
    other = project.root / "cards/test/other.md"
    text = other.read_text(encoding="utf-8")
    other.write_text(text.replace("{{c2::Paris}}", "Paris").replace("### Add Reverse\ny\n", ""), encoding="utf-8")
    result = project.build()
    assert "0 new, 2 changed, 4 unchanged, 0 deleted, 0 moved, 2 cards no longer made" in result.output
    tail = "they delete it with Tools > Empty Cards in Anki's main window)"
    assert [line.strip() for line in result.output.splitlines() if "no longer made:" in line] == [
        f"card no longer made: capital c2 (Anki keeps the learners' card, showing \"No cloze found on card\": {tail}",
        f"card no longer made: both-ways Card 2 (Anki keeps the learners' card, showing an empty side: {tail}"]
    import_apkg(collection, project.dist / "test.apkg")
    by_guid = {genanki.guid_for(1234567890, card_id): card_id for card_id in records}
    empty = {(by_guid[collection.get_note(n.note_id).guid], collection.get_card(card).ord)
             for n in collection.get_empty_cards().notes for card in n.card_ids}
    assert empty == {("capital", 1), ("both-ways", 1)}
    again = project.build()
    assert "no longer made" not in again.output  # said once, in the release that dropped them
