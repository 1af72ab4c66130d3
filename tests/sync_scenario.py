"""The scenario of issue 15, shared by the collection test and the AnkiConnect test: two versions
of a deck, what a learner does in Anki between them, and what the collection must hold after."""

from __future__ import annotations

import sqlite3
from pathlib import Path

V1 = {
    "cards/test/a.md": """
        ## Keep me?
        <!-- id: keep-me; tags: level::basic -->

        Answer one.

        ## Moved by hand?
        <!-- id: hand-moved -->

        Answer two.

        ## Gone, never reviewed?
        <!-- id: gone-new -->

        Answer three.

        ## Gone, reviewed?
        <!-- id: gone-reviewed -->

        Answer four.

        ## Mover?
        <!-- id: mover -->

        Answer five.
        """,
    "cards/test/b.md": """
        ## Stays in B?
        <!-- id: stays-b; type: basic-reversed -->

        Answer six.
        """,
}

# v2: keep-me's answer and level change, two cards are deleted, mover goes to B, one card is added.
V2 = {
    "cards/test/a.md": """
        ## Keep me?
        <!-- id: keep-me; tags: level::advanced -->

        Answer one, corrected.

        ## Moved by hand?
        <!-- id: hand-moved -->

        Answer two.
        """,
    "cards/test/b.md": """
        ## Stays in B?
        <!-- id: stays-b; type: basic-reversed -->

        Answer six.

        ## Mover?
        <!-- id: mover -->

        Answer five.

        ## Fresh?
        <!-- id: fresh -->

        Answer seven.
        """,
}

REVIEWED = ("Keep me?", "Gone, reviewed?", "Mover?", "Moved by hand?")  # questions the learner reviews
V2_PLAN = [
    "Test Deck: 1 added, 1 updated, 1 moved, 1 deleted, 1 suspended, 2 untouched",
    '  moved: mover from "Test Deck::A" to "Test Deck::B"',
    '  kept: hand-moved stays in "Elsewhere", where it was moved in Anki (the deck puts it in "Test Deck::A")',
    "  deleted: gone-new (removed from the deck, never reviewed)",
    "  suspended: gone-reviewed (removed from the deck, but reviewed: tagged cardsmith::deleted; delete it in "
    "Anki, or sync with --delete-reviewed)",
]


def question(fields_text: str) -> str:
    """The question of a note's first field (`<p>Q?</p>` -> `Q?`)."""
    return fields_text.split("\x1f")[0].removeprefix("<p>").removesuffix("</p>")


def connect(path: Path) -> sqlite3.Connection:
    """The collection file read with plain SQLite (Anki's case-insensitive collation stood in for)."""
    conn = sqlite3.connect(path)
    conn.create_collation("unicase", lambda a, b: (a.casefold() > b.casefold()) - (a.casefold() < b.casefold()))
    return conn


def contents(path: Path) -> dict[str, list]:
    """Every row Anki keeps of notes, cards, reviews, decks and note types (to compare before and after)."""
    conn = connect(path)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                for table in ("notes", "cards", "revlog", "decks", "notetypes", "fields", "templates", "col",
                              "deck_config", "config", "tags")}
    finally:
        conn.close()


def scheduling(path: Path) -> tuple[dict, list]:
    """Per card (by id) its scheduling, and the review log: a sync never changes them."""
    conn = connect(path)
    try:
        cards = {row[0]: row[1:] for row in conn.execute(
            "SELECT id, nid, ord, type, ivl, due, factor, reps, lapses, left, odue, flags FROM cards")}
        return cards, conn.execute("SELECT * FROM revlog ORDER BY id").fetchall()
    finally:
        conn.close()


def notes_by_question(path: Path) -> dict[str, dict]:
    """Each note by its question: id, GUID, fields, tags, and its cards' decks and queues."""
    conn = connect(path)
    try:
        names = {}
        for deck_id, name in conn.execute("SELECT id, name FROM decks"):
            names[deck_id] = name.replace("\x1f", "::")
        result = {}
        for nid, guid, flds, tags in conn.execute("SELECT id, guid, flds, tags FROM notes"):
            cards = conn.execute("SELECT did, odid, queue FROM cards WHERE nid = ? ORDER BY ord", (nid,)).fetchall()
            result[question(flds)] = {"id": nid, "guid": guid, "fields": flds.split("\x1f"), "tags": tags.split(),
                                      "decks": [names[odid or did] for did, odid, _ in cards],
                                      "suspended": [queue == -1 for _, _, queue in cards]}
        return result
    finally:
        conn.close()


def check_v2(before: dict[str, dict], after: dict[str, dict], schedule_before: tuple, schedule_after: tuple) -> None:
    """The collection after syncing v2 over v1 and the learner's work (the issue's Tests section)."""
    assert set(after) == {"Keep me?", "Moved by hand?", "Gone, reviewed?", "Mover?", "Stays in B?", "Fresh?"}
    keep = after["Keep me?"]
    assert keep["id"] == before["Keep me?"]["id"] and keep["guid"] == before["Keep me?"]["guid"]
    assert keep["fields"] == ["<p>Keep me?</p>", "<p>Answer one, corrected.</p>"]
    assert sorted(keep["tags"], key=str.casefold) == ["level::advanced", "marked", "mine"]
    gone = after["Gone, reviewed?"]
    assert gone["suspended"] == [True] and "cardsmith::deleted" in gone["tags"]
    assert gone["fields"] == before["Gone, reviewed?"]["fields"]
    assert after["Mover?"]["decks"] == ["Test Deck::B"] and after["Mover?"]["id"] == before["Mover?"]["id"]
    assert after["Moved by hand?"]["decks"] == ["Elsewhere"]
    assert after["Fresh?"]["decks"] == ["Test Deck::B"] and after["Fresh?"]["suspended"] == [False]
    assert after["Stays in B?"] == before["Stays in B?"]
    cards_before, log_before = schedule_before
    cards_after, log_after = schedule_after
    assert log_after == log_before  # review history unchanged
    deleted_cards = {cid for cid, row in cards_before.items() if row[0] == before["Gone, never reviewed?"]["id"]}
    new_cards = set(cards_after) - set(cards_before)
    assert set(cards_before) - set(cards_after) == deleted_cards and len(new_cards) == 1
    assert all(cards_after[cid] == row for cid, row in cards_before.items() if cid not in deleted_cards)
    assert len({note["guid"] for note in after.values()}) == len(after)  # no duplicates


def with_image(seed: int) -> dict[str, str | bytes]:
    """A deck of one card showing an image; another seed, another image (and media name)."""
    from bench.generate import png

    return {"cards/test/a.md": "## What is plotted?\n<!-- id: plot -->\n\n![a plot](img/plot.png)\n",
            "cards/test/img/plot.png": png(seed)}


def media_of(path: Path) -> tuple[str, bytes]:
    """The image the card's answer shows, and that file's bytes in the collection's media folder."""
    import re

    answer = notes_by_question(path)["What is plotted?"]["fields"][1]
    name = re.search(r'src="([^"]+)"', answer).group(1)
    return name, (path.parent / "collection.media" / name).read_bytes()
