"""Issue 3: updates that sync cleanly, checked against the real Anki backend."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import REPO, assert_integrity, import_apkg, review_all

THREE = """
## Question X?
<!-- id: card-x -->

Answer X.

## Question Y?
<!-- id: card-y -->

Answer Y.

## Question Z?
<!-- id: card-z -->

Answer Z.
"""


def notes_by_guid(col):
    return {col.get_note(n).guid: col.get_note(n) for n in col.find_notes("")}


def note_with(col, text):
    found = [col.get_note(n) for n in col.find_notes("") if text in col.get_note(n).fields[0]]
    assert len(found) == 1, text
    return found[0]


def test_user_edit_survives_until_the_card_changes_upstream(project, collection):
    project.write({"cards/test/a.md": THREE})
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    x = note_with(collection, "Question X")
    x.fields[1] = "My own note on X."
    collection.update_note(x)

    project.write({"cards/test/a.md": THREE.replace("Answer Y.", "Answer Y, improved.")})
    result = project.build()
    assert "0 new, 1 changed, 2 unchanged, 0 deleted, 0 moved" in result.output
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.updated) == 1 and not log.new and not log.conflicting
    assert note_with(collection, "Question Y").fields[1] == "<p>Answer Y, improved.</p>"
    assert note_with(collection, "Question X").fields[1] == "My own note on X."

    time.sleep(1.1)  # the next release comes out after the learner's edit
    project.write({"cards/test/a.md": THREE.replace("Answer Y.", "Answer Y, improved.")
                                           .replace("Answer X.", "Answer X, corrected.")})
    project.build()
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.updated) == 1
    assert note_with(collection, "Question X").fields[1] == "<p>Answer X, corrected.</p>"
    assert len(collection.find_notes("")) == 3
    assert_integrity(collection)


def test_deleted_card_is_shipped_as_a_findable_tombstone(project, collection, tmp_path):
    project.write({"cards/test/a.md": THREE})
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    review_all(collection, "Test Deck")
    revlog = collection.db.all("select * from revlog order by id")
    guid_y = note_with(collection, "Question Y").guid

    project.write({"cards/test/a.md": THREE.replace("## Question Y?\n<!-- id: card-y -->\n\nAnswer Y.\n", "")})
    result = project.build("--allow-deletions")  # 1 of 3 cards: more than a quarter
    assert "0 new, 0 changed, 2 unchanged, 1 deleted, 0 moved" in result.output
    assert "deleted: card-y (shipped tagged cardsmith::deleted" in result.output
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.updated) == 1 and not log.new
    found = collection.find_notes("tag:cardsmith::deleted")
    assert len(found) == 1
    tombstone = collection.get_note(found[0])
    assert tombstone.guid == guid_y
    assert "deleted from the deck" in tombstone.fields[0]
    assert collection.db.all("select * from revlog order by id") == revlog
    # A rebuild with nothing changed keeps the tombstone as it is.
    again = project.build()
    assert "up to date" in again.output
    # A learner who starts with this version finds the tombstone apart, in its own subdeck.
    from anki.collection import Collection

    (tmp_path / "fresh").mkdir()
    fresh = Collection(str(tmp_path / "fresh" / "c.anki2"))
    import_apkg(fresh, project.dist / "test.apkg")
    cards = [fresh.get_card(c) for c in fresh.find_cards("tag:cardsmith::deleted")]
    assert len(cards) == 1
    assert fresh.decks.name(cards[0].did) == "Test Deck::Deleted cards"
    fresh.close()


def test_moved_card_is_reported_with_a_search_that_finds_it(project, collection):
    project.write({"cards/test/a.md": "---\nsubdeck: Old\n---\n" + THREE})
    project.build()
    import_apkg(collection, project.dist / "test.apkg")
    text = THREE.replace("## Question Z?\n<!-- id: card-z -->\n\nAnswer Z.\n", "")
    project.write({"cards/test/a.md": "---\nsubdeck: Old\n---\n" + text,
                   "cards/test/b.md": "---\nsubdeck: New\n---\n## Question Z?\n<!-- id: card-z -->\n\nAnswer Z.\n"})
    result = project.build()
    assert "0 new, 0 changed, 2 unchanged, 0 deleted, 1 moved" in result.output
    line = next(l for l in result.output.splitlines() if l.strip().startswith("moved: card-z"))
    search = line.split("search ", 1)[1].split(", select", 1)[0]
    assert search == '"deck:Test Deck::Old" tag:cardsmith::moved'
    import_apkg(collection, project.dist / "test.apkg")
    found = collection.find_cards(search)
    assert len(found) == 1
    assert "Question Z" in collection.get_card(found[0]).note().fields[0]
    # Anki does not move it; the documented way does.
    assert collection.decks.name(collection.get_card(found[0]).did) == "Test Deck::Old"
    collection.set_deck(found, collection.decks.id("Test Deck::New"))
    assert collection.decks.name(collection.get_card(found[0]).did) == "Test Deck::New"


def test_adding_a_field_is_refused_with_an_explanation(project):
    project.write({"cards/test/a.md": THREE})
    project.build()
    spec = project.root / "templates/basic/notetype.yaml"
    spec.write_text(spec.read_text().replace("  - {name: Back, id: 555622155700208}\n",
                                             "  - {name: Back, id: 555622155700208}\n  - {name: Source, id: 77}\n"))
    before = (project.dist / "test.apkg").read_bytes()
    result = project.run("build")
    assert result.exit_code == 1
    assert result.output.startswith(
        "templates/basic/notetype.yaml:1: the fields or card templates of note type 'cardsmith Basic' changed "
        "since the last release (Front, Back, Card 1 -> Front, Back, Source, Card 1). Anki cannot update")
    assert "add a new note type" in result.output
    assert (project.dist / "test.apkg").read_bytes() == before


def test_changing_a_cards_note_type_is_refused(project):
    project.write({"cards/test/a.md": THREE})
    project.build()
    project.write({"cards/test/a.md": THREE.replace("<!-- id: card-x -->", "<!-- id: card-x; type: basic-reversed -->")})
    result = project.run("build")
    assert result.exit_code == 1
    assert result.output.startswith("cards/test/a.md:2: card 'card-x' was released as a 'basic' note")


def test_report_json_and_frozen(project, tmp_path):
    project.write({"cards/test/a.md": THREE})
    frozen = project.run("build", "--frozen")
    assert frozen.exit_code == 1
    assert "decks/test.lock:1: out of date with the card sources" in frozen.output
    assert not (project.dist / "test.apkg").exists()
    project.build()
    assert project.run("build", "--frozen").exit_code == 0
    project.write({"cards/test/a.md": THREE.replace("Answer Z.", "Answer Z2.")})
    report = tmp_path / "report.json"
    project.build("--report", str(report))
    data = json.loads(report.read_text())
    assert data[0]["deck"] == "Test Deck"
    assert data[0]["changed"] == ["card-z"] and data[0]["new"] == [] and data[0]["unchanged"] == 2
    project.build("--report", str(report))  # nothing changed: the package is not written again
    again = json.loads(report.read_text())
    assert again[0]["up_to_date"] and not data[0]["up_to_date"]
    assert again[0]["cards"] == data[0]["cards"] == 3 and again[0]["notes"] == data[0]["notes"] == 3


@pytest.mark.parametrize("where", ["missing-folder", "a-folder"])
def test_a_report_that_cannot_be_written_stops_the_build_before_it_writes(project, tmp_path, where):
    """The report path is checked first: the build wrote the package and the lock and then exited 1."""
    project.write({"cards/test/a.md": THREE})
    report = tmp_path / "nonexistent" / "r.json" if where == "missing-folder" else tmp_path
    result = project.run("build", "--report", str(report))
    assert result.exit_code == 1 and "Traceback" not in result.output
    reason = "its folder does not exist" if where == "missing-folder" else "it is a folder"
    assert result.output.splitlines()[0] == f"{report}:0: cannot write the report there: {reason}"
    assert not project.dist.exists() and not (project.root / "decks/test.lock").exists()


@pytest.mark.parametrize("report", ["cards/test/a.md", "decks/test.yaml", "templates/basic/front.html"])
def test_a_report_over_a_source_file_is_refused(project, report):
    """`--report cards/test/a.md` (a slip of tab completion) replaced the card file with the JSON report."""
    project.write({"cards/test/a.md": THREE})
    before = (project.root / report).read_bytes()
    result = project.run("build", "--report", str(project.root / report))
    assert result.exit_code == 1 and result.output.startswith(f"--report: {report} is inside the project's sources ("), \
        result.output
    assert (project.root / report).read_bytes() == before and not project.dist.exists()


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_sources_give_byte_identical_packages(project, tmp_path):
    project.write({"cards/test/a.md": THREE, "cards/test/b.md": "## B?\n<!-- id: b -->\n\n![x](x.png)\n",
                   "cards/test/x.png": b"\x89PNG fake but fine as bytes"})
    project.build()  # first release: writes decks/test.lock, committed with the sources
    digests = set()
    for n, (seed, epoch, reverse) in enumerate([("1", "1600000000", False), ("99", "1700000000", True)]):
        copy = tmp_path / f"copy{n}"
        names = sorted(p.relative_to(project.root) for p in project.root.rglob("*") if p.is_file()
                       and "dist" not in p.parts)
        for rel in (reversed(names) if reverse else names):  # a different file-system order
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(project.root / rel, copy / rel)
        env = dict(os.environ, PYTHONHASHSEED=seed, SOURCE_DATE_EPOCH=epoch, TZ="Asia/Tokyo" if n else "UTC")
        subprocess.run([sys.executable, "-m", "cardsmith", "build", "--root", str(copy)], check=True, env=env,
                       cwd=REPO, capture_output=True)
        digests.add(_sha(copy / "dist/test.apkg"))
        time.sleep(1.1 if n == 0 else 0)  # and a different wall clock
    assert len(digests) == 1


def test_cards_that_would_be_the_same_note_across_decks_fail(project):
    project.write({
        "decks/other.yaml": "name: Other\nid: 1987654321\ncards: [other/*.md]\n",
        "cards/test/a.md": "## A?\n<!-- id: a; guid: SameGuid01 -->\n\nA.\n",
        "cards/other/b.md": "## B?\n<!-- id: b; guid: SameGuid01 -->\n\nB.\n",
    })
    result = project.run("build")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "cards/test/a.md:2: card 'a' would be the same Anki note as 'b' at cards/other/b.md:2")


def test_a_card_file_belongs_to_one_deck(project):
    project.write({"decks/other.yaml": "name: Other\nid: 1987654321\ncards: [test/*.md]\n",
                   "cards/test/a.md": THREE})
    result = project.run("build")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "decks/test.yaml:1: cards/test/a.md is also taken by decks/other.yaml; a card file belongs to one deck")
