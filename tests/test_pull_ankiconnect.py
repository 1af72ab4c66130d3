"""Issue 16: `cardsmith pull --anki-connect`, the issue's scenario against a real, headless Anki desktop with the
AnkiConnect add-on (skipped, with the reason, without them: see tests/test_sync_ankiconnect.py)."""

from __future__ import annotations

import re

from test_pull import A_MD, B_MD, EDITED_ANSWER
from test_sync_ankiconnect import Desktop, desktop, pytestmark  # noqa: F401  (the fixture, the skip marks)


def run(project, desktop: Desktop, command: str, *args: str, code: int = 0):
    result = project.run(command, "--anki-connect", desktop.url, *args)
    assert result.exit_code == code, result.output
    return result


def note_of(desktop: Desktop, question: str) -> int:
    return desktop.call("findNotes", query=f'"Front:<p>{question}</p>"')[0]


def test_the_issue_scenario_through_ankiconnect(project, desktop):
    project.write({"cards/test/b.md": B_MD})
    (project.root / "cards/test/a.md").write_bytes(A_MD.encode())
    project.build()
    assert run(project, desktop, "sync").output.splitlines()[0].startswith("Test Deck: 4 added")
    desktop.call("updateNoteFields", note={"id": note_of(desktop, "What does a non-linear activation function add?"),
                                           "fields": {"Back": EDITED_ANSWER}})
    desktop.call("addTags", notes=[note_of(desktop, "Which tags does this card have?")], tags="topic::activations mine")
    added = desktop.call("addNote", note={"deckName": "Test Deck::A", "modelName": "cardsmith Basic",
                                          "fields": {"Front": "What is ReLU?", "Back": "<b>max</b>(0, x)"},
                                          "tags": ["topic::activations", "mine"]})
    # AnkiConnect's addNote (its legacy add) may leave the card in the current deck: put it where a user would.
    desktop.call("changeDeck", cards=desktop.call("findCards", query=f"nid:{added}"), deck="Test Deck::A")
    desktop.call("deleteNotes", notes=[note_of(desktop, "Deleted in Anki?")])
    (project.root / "cards/test/b.md").write_text(B_MD.replace("Answer four.", "Answer four, corrected."))

    result = run(project, desktop, "pull", "--new-cards", str(project.root / "cards/test/new.md"))
    assert result.output.splitlines()[:5] == [
        "Test Deck: 2 pulled, 1 new, 1 deleted in Anki, 1 changed in the sources only, 0 conflicts, 0 unchanged",
        "  pulled: nonlinear (cards/test/a.md:5): Back",
        "  pulled: tagged (cards/test/a.md:10): tags +topic::activations",
        "  new: what-is-relu (cards/test/new.md:5)",
        "  deleted in Anki: gone (cards/test/a.md:15): kept in the sources (--delete removes it)",
    ]
    assert (project.root / "cards/test/a.md").read_bytes() == A_MD.replace(
        "any stack of linear layers collapses into a single linear map $W_2 W_1 x$.",
        "<b>any</b> stack of linear layers collapses into a single linear map $W_2 W_1 x$, "
        "e.g. $y = \\frac{a}{b}$.").replace("tags: level::basic topic::layers -->",
                                             "tags: level::basic topic::layers topic::activations -->").encode()
    new = (project.root / "cards/test/new.md").read_text()
    guid = re.search(r"; guid: (.*) -->", new).group(1)
    assert new == ("---\nsubdeck: A\n---\n\n## What is ReLU? {=html}\n"
                   f"<!-- id: what-is-relu; tags: topic::activations; guid: {guid} -->\n\n```{{=html}}\n"
                   "<b>max</b>(0, x)\n```\n")

    project.build()
    assert run(project, desktop, "sync").output.splitlines()[0] == \
        "Test Deck: 0 added, 1 updated, 0 moved, 0 deleted, 0 suspended, 4 untouched"  # the sources' own edit
    files = {p: p.read_bytes() for p in (project.root / "cards/test").iterdir()}
    again = run(project, desktop, "pull")
    assert again.output.splitlines()[0] == \
        "Test Deck: 0 pulled, 0 new, 1 deleted in Anki, 0 changed in the sources only, 0 conflicts, 4 unchanged"
    assert {p: p.read_bytes() for p in (project.root / "cards/test").iterdir()} == files
    assert run(project, desktop, "sync").output.splitlines()[-1].endswith("is up to date: nothing to change.")
