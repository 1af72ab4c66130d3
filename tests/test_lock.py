"""Issue 12, item 2: a lock file that cannot hurt learners.

A lock of another deck, a malformed lock or a release time in the future is refused; git
merge-conflict markers are resolved by the build; a build never tombstones a live card, and one
that would delete more than a quarter of a deck's released cards needs --allow-deletions.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import genanki
import pytest

from conftest import import_apkg

DECK_ID = 1234567890
OTHER_DECK = "name: Other Deck\nid: 1987654321\ncards: [other/*.md]\n"


def cards(*ids: str, answer: str = "Answer") -> str:
    return "".join(f"## Question {card_id}?\n<!-- id: {card_id} -->\n\n{answer} {card_id}.\n\n" for card_id in ids)


def lock_text(project, deck: str = "test") -> str:
    return (project.root / "decks" / f"{deck}.lock").read_text(encoding="utf-8")


def package_notes(apkg: Path) -> dict[str, tuple[str, int, str]]:
    """GUID -> (fields, mod, tags) of every note in a package."""
    with tempfile.NamedTemporaryFile(suffix=".anki2") as db:
        db.write(zipfile.ZipFile(apkg).read("collection.anki2"))
        db.flush()
        conn = sqlite3.connect(db.name)
        try:
            return {guid: (flds, mod, tags) for guid, flds, mod, tags in
                    conn.execute("SELECT guid, flds, mod, tags FROM notes")}
        finally:
            conn.close()


def refused(project, *args: str, env: dict | None = None) -> str:
    """Run a build that must be refused: exit 1, no traceback, and the package and lock untouched."""
    apkg, lock = project.dist / "test.apkg", project.root / "decks" / "test.lock"
    before = [p.read_bytes() if p.exists() else None for p in (apkg, lock)]
    result = project.run("build", *args, env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert [p.read_bytes() if p.exists() else None for p in (apkg, lock)] == before
    return result.output


@pytest.fixture
def released(project):
    """The test project with four cards, built once (the lock is the first release)."""
    project.write({"cards/test/a.md": cards("card-a", "card-b", "card-c", "card-d")})
    project.build()
    return project


def test_lock_records_its_deck(released):
    first = lock_text(released).splitlines()[0]
    assert first == f'{{"format": 1, "deck": {DECK_ID},'
    assert json.loads(lock_text(released))["deck"] == DECK_ID


def test_lock_without_deck_id_keeps_working_and_gets_it(released):
    old = lock_text(released).replace(f' "deck": {DECK_ID},', "")
    (released.root / "decks/test.lock").write_text(old, encoding="utf-8")
    apkg = (released.dist / "test.apkg").read_bytes()
    frozen = released.run("build", "--frozen")
    assert frozen.exit_code == 0, frozen.output
    assert lock_text(released) == old  # a --frozen build never changes the lock
    result = released.build()
    assert "up to date" in result.output
    assert json.loads(lock_text(released))["deck"] == DECK_ID
    assert (released.dist / "test.apkg").read_bytes() == apkg


def test_lock_of_another_deck_is_refused(released):
    released.write({"decks/other.yaml": OTHER_DECK, "cards/other/o.md": cards("card-a", "card-b")})
    released.build("other")
    other = lock_text(released, "other")
    (released.root / "decks/test.lock").write_text(other, encoding="utf-8")
    output = refused(released)
    assert output.startswith("decks/test.lock:1: this lock belongs to the deck with id 1987654321, but "
                             "decks/test.yaml has id 1234567890. If the lock was copied from another deck, "
                             "restore it from git (`git checkout -- decks/test.lock`)")


def test_changed_deck_id_is_refused(released):
    deck = released.root / "decks/test.yaml"
    deck.write_text(deck.read_text().replace(str(DECK_ID), "1234567891"))
    assert "If you changed the deck's id, change it back" in refused(released)


def test_old_lock_of_another_deck_is_refused_by_its_guids(released):
    """Without a deck id, the GUIDs give a copied lock away: cardsmith made them from another deck's id."""
    released.write({"decks/other.yaml": OTHER_DECK, "cards/other/o.md": cards("card-a", "card-b", "card-c")})
    released.build("other")
    other = lock_text(released, "other").replace(' "deck": 1987654321,', "")
    (released.root / "decks/test.lock").write_text(other, encoding="utf-8")
    line = next(n for n, text in enumerate(other.splitlines(), 1) if '"card-a"' in text)
    output = refused(released)
    assert output.startswith(f"decks/test.lock:{line}: card 'card-a' was released with the GUID "
                             f"'{genanki.guid_for(1987654321, 'card-a')}', but this deck (id {DECK_ID}) gives it "
                             f"'{genanki.guid_for(DECK_ID, 'card-a')}': the lock is another deck's")


def test_old_lock_of_another_deck_without_common_cards_is_refused_as_deletions(released):
    released.write({"decks/other.yaml": OTHER_DECK, "cards/other/o.md": cards("x1", "x2", "x3")})
    released.build("other")
    other = lock_text(released, "other").replace(' "deck": 1987654321,', "")
    (released.root / "decks/test.lock").write_text(other, encoding="utf-8")
    (released.root / "decks/other.yaml").rename(released.root / "other.yaml")  # a deck of another project
    output = refused(released, "test")
    assert output.startswith("decks/test.yaml:1: this build would delete 3 of the deck's 3 released cards "
                             "(more than a quarter): x1, x2, x3 are in decks/test.lock but in no card file")
    # With the deck they belong to in the project, those GUIDs are live there: never shipped as deleted, whichever
    # decks are built.
    (released.root / "other.yaml").rename(released.root / "decks/other.yaml")
    assert "0 deleted" in released.build("test").output
    assert not any("cardsmith::deleted" in tags for _, _, tags in package_notes(released.dist / "test.apkg").values())


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


MALFORMED = {
    "bad-json": (lambda t: t.replace('"card-b": {', '"card-b" {'), 4, "not valid JSON (Expecting ':' delimiter)"),
    "not-an-object": (lambda t: "[1, 2]\n", 1, "not a lock file"),
    "missing-section": (lambda t: re.sub(r'"deleted": \{\},\n', "", t), 1, "missing keys 'deleted'"),
    "unknown-top-key": (lambda t: t.replace('{"format": 1,', '{"format": 1, "extra": 2,'), 1, "unknown keys 'extra'"),
    "newer-format": (lambda t: t.replace('"format": 1', '"format": 2'), 1,
                     "lock format 2 is newer than this cardsmith reads: update cardsmith"),
    "deck-not-a-number": (lambda t: t.replace(f'"deck": {DECK_ID}', '"deck": "1234567890"'), 1,
                          "'deck' must be the deck's id (a whole number)"),
    "mod-is-text": (lambda t: re.sub(r'("card-c": \{.*?"mod": )(\d+)', r'\1"\2"', t), 5,
                    "card 'card-c': 'mod' must be a whole number"),
    "mod-is-negative": (lambda t: re.sub(r'("card-c": \{.*?"mod": )(\d+)', r'\1-5', t), 5,
                        "card 'card-c': 'mod' must not be negative"),
    "missing-hash": (lambda t: re.sub(r'("card-d": \{.*?)"hash": "\w+", ', r'\1', t), 6, "card 'card-d': missing hash"),
    "unknown-record-key": (lambda t: t.replace('"card-a": {', '"card-a": {"x": 1, '), 3, "card 'card-a': unknown x"),
    "empty-guid": (lambda t: re.sub(r'("card-b": \{"guid": )"[^"]*"', r'\1""', t), 4, "card 'card-b': 'guid' must not be empty"),
    "record-not-an-object": (lambda t: re.sub(r'"card-b": \{.*\},', '"card-b": 7,', t), 4, "card 'card-b': must be an object"),
    "bad-schema": (lambda t: re.sub(r'"schema": \{.*\}\}', '"schema": {"fields": 3}}', t), 10,
                   "note type 'basic': 'schema' must hold 'fields' and 'templates'"),
    "repeated-card": (lambda t: re.sub(r'(\n "card-a": \{.*\},)', r'\1\1', t), 4, "'card-a' appears twice"),
    "not-utf8": (lambda t: t.replace("card-c", "card-\udcff"), 5, "not UTF-8 text"),
    # JSON's \u escapes can name half a UTF-16 pair, which is no character: Anki's files cannot hold it
    "lone-surrogate-key": (lambda t: t.replace('"card-c"', '"\\ud800"'), 5,
                           "card '\\ud800': '\\ud800' is half of a UTF-16 pair, not a character"),
    "lone-surrogate-value": (lambda t: re.sub(r'("card-d": \{.*?"subdeck": )"', r'\1"\\udfff', t), 6,
                             "card 'card-d': '\\udfff' is half of a UTF-16 pair, not a character"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_lock_is_refused_with_its_line(released, case):
    edit, line, message = MALFORMED[case]
    text = lock_text(released)
    (released.root / "decks/test.lock").write_bytes(edit(text).encode("utf-8", "surrogateescape"))
    output = refused(released)
    first = output.splitlines()[0]
    assert first.startswith(f"decks/test.lock:{line}: "), output
    assert message in first
    if case != "newer-format":  # says what to do
        assert "restore it from git" in first


def test_many_malformed_records_give_few_lines(project):
    project.write({"cards/test/a.md": cards(*(f"card-{i}" for i in range(40)))})
    project.build()
    lock = project.root / "decks/test.lock"
    lock.write_text(lock.read_text().replace('"mod": ', '"mod": -'))
    output = refused(project)
    lines = [line for line in output.splitlines() if line.startswith("decks/")]
    assert len(lines) == 10 and lines[-1].endswith("... and 32 more problems like these")


def test_release_time_in_the_future_is_refused(released):
    text = lock_text(released)
    now = int(time.time())
    soon = re.sub(r'("card-b": \{.*?"mod": )\d+', rf"\g<1>{now + 120}", text)  # within the clock skew
    (released.root / "decks/test.lock").write_text(soon)
    assert released.run("build").exit_code == 0
    late = re.sub(r'("card-c": \{.*?"mod": )\d+', rf"\g<1>{now + 3600}", text)
    (released.root / "decks/test.lock").write_text(late)
    output = refused(released)
    assert output.startswith("decks/test.lock:5: card 'card-c' has the release time")
    assert "later than this machine's clock" in output and "by more than 10 minutes" in output


def test_source_date_epoch_in_the_future_or_not_a_time_is_refused(released):
    released.write({"cards/test/a.md": cards("card-a", "card-b", "card-c", "card-d", "card-e")})
    future = str(int(time.time()) + 86400)
    output = refused(released, env={"SOURCE_DATE_EPOCH": future})
    assert output.startswith(f"SOURCE_DATE_EPOCH:0: {future} is in the future")
    assert refused(released, env={"SOURCE_DATE_EPOCH": "yesterday"}).startswith(
        "SOURCE_DATE_EPOCH:0: 'yesterday' is not a time")
    past = str(int(time.time()) - 86400)
    assert released.run("build", env={"SOURCE_DATE_EPOCH": past}).exit_code == 0


def test_deleting_more_than_a_quarter_needs_a_flag(project):
    project.write({f"cards/test/{c}.md": cards(c) for c in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8")})
    project.build()
    for name in ("c1", "c2"):  # a quarter: allowed
        (project.root / f"cards/test/{name}.md").unlink()
    assert "2 deleted" in project.build().output
    deck = project.root / "decks/test.yaml"
    deck.write_text(deck.read_text().replace("[test/*.md]", '["test/c[3-4].md"]'))  # a pattern that misses most files
    output = refused(project)
    assert output.startswith("decks/test.yaml:1: this build would delete 4 of the deck's 6 released cards (more than "
                             "a quarter): c5, c6, c7, c8 are in decks/test.lock but in no card file that the deck's "
                             "`cards` patterns (test/c[3-4].md) match.")
    assert "--allow-deletions" in output
    result = project.build("--allow-deletions")
    assert "0 new, 0 changed, 2 unchanged, 4 deleted, 0 moved" in result.output


def test_a_card_renamed_with_its_guid_is_not_tombstoned(project):
    """Its old id leaves the sources but its GUID does not: a tombstone would overwrite the live note."""
    project.write({"cards/test/a.md": "## Kept?\n<!-- id: kept -->\n\nYes.\n\n"
                                      "## Imported?\n<!-- id: old-name; guid: AbCdE12345 -->\n\nYes.\n"})
    project.build()
    project.write({"cards/test/a.md": "## Kept?\n<!-- id: kept -->\n\nYes.\n\n"
                                      "## Imported?\n<!-- id: new-name; guid: AbCdE12345 -->\n\nYes.\n"})
    result = project.build()
    assert "0 deleted" in result.output
    notes = package_notes(project.dist / "test.apkg")
    assert len(notes) == 2 and "cardsmith::deleted" not in notes["AbCdE12345"][2]
    lock = json.loads(lock_text(project))
    assert lock["deleted"] == {} and lock["cards"]["new-name"]["guid"] == "AbCdE12345"


def test_a_hand_made_tombstone_of_a_live_card_is_dropped(released):
    lock = json.loads(lock_text(released))
    lock["deleted"]["gone"] = {"guid": lock["cards"]["card-a"]["guid"], "mod": 1, "type": "basic"}
    (released.root / "decks/test.lock").write_text(json.dumps(lock))
    released.build()
    assert "gone" not in json.loads(lock_text(released))["deleted"]
    notes = package_notes(released.dist / "test.apkg")
    assert len(notes) == 4 and not any("cardsmith::deleted" in tags for _, _, tags in notes.values())


# Git merge conflicts ------------------------------------------------------------------------------

def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    return subprocess.run(["git", *args], cwd=root, env=env, check=check, capture_output=True, text=True)


def card_file(card_id: str, answer: str) -> str:
    return f"## Question {card_id}?\n<!-- id: {card_id} -->\n\n{answer}\n"


def build_at(project, epoch: int, out: str) -> Path:
    project.build("--out", str(project.root / out), env={"SOURCE_DATE_EPOCH": str(epoch)})
    return project.root / out / "test.apkg"


@pytest.mark.parametrize("same_second", [False, True], ids=["later-release-wins", "same-second"])
def test_merge_conflict_in_the_lock_is_resolved(project, tmp_path, same_second):
    """Two branches each built a release; their lock conflicts. The build resolves it, and learners of either
    release who import the merged one end with exactly the merged deck."""
    root = project.root
    (root / ".gitignore").write_text(".cache/\nrelease-*/\n")
    now = int(time.time())
    project.write({f"cards/test/{c}.md": card_file(c, f"Base {c}.") for c in ("c1", "c2", "c3", "c4", "c5", "c6")})
    build_at(project, now - 10000, "release-base")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "side-a")
    project.write({"cards/test/c1.md": card_file("c1", "A's c1."), "cards/test/a-new.md": card_file("a-new", "New.")})
    (root / "cards/test/c2.md").unlink()
    releases = {"a": build_at(project, now - 5000, "release-a")}
    git(root, "add", "-A")
    git(root, "commit", "-qm", "side a")
    git(root, "checkout", "-q", "main")
    project.write({"cards/test/c1.md": card_file("c1", "B's c1."), "cards/test/c2.md": card_file("c2", "B's c2."),
                   "cards/test/c3.md": card_file("c3", "B's c3."), "cards/test/b-new.md": card_file("b-new", "New.")})
    releases["b"] = build_at(project, now - (5000 if same_second else 4000), "release-b")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "side b")
    merge = git(root, "merge", "side-a", check=False)
    assert merge.returncode == 1 and "CONFLICT (content): Merge conflict in decks/test.lock" in merge.stdout
    git(root, "checkout", "--theirs", "cards/test/c1.md")  # the sources: A's c1, B's c2 (kept), B's c3
    git(root, "add", "cards/test/c1.md", "cards/test/c2.md")
    assert "<<<<<<<" in lock_text(project)

    result = project.build("-v")
    assert "decks/test.lock: resolved 1 git merge-conflict region (both branches' cards kept; for a card both " \
           "released, the later release) and wrote the lock without markers" in result.output
    merged = json.loads(lock_text(project))
    assert sorted(merged["cards"]) == ["a-new", "b-new", "c1", "c2", "c3", "c4", "c5", "c6"]
    assert merged["deleted"] == {}
    # c1: A's text, B's later release: changed. At the same second, c2 (deleted by A, edited by B) changes too:
    # one side's learners have B's text, the other's the tombstone, both at that second.
    changed = ["c1", "c2"] if same_second else ["c1"]
    assert f"0 new, {len(changed)} changed, {8 - len(changed)} unchanged, 0 deleted" in result.output
    assert [line.split()[-1] for line in result.output.splitlines() if "changed: " in line] == changed
    final = package_notes(project.dist / "test.apkg")
    assert {guid: mod for guid, (_, mod, _) in final.items()} == {
        record["guid"]: record["mod"] for record in merged["cards"].values()}
    for side, apkg in releases.items():  # a learner of each branch's release imports the merged one
        from anki.collection import Collection

        (tmp_path / side).mkdir()
        col = Collection(str(tmp_path / side / "collection.anki2"))
        try:
            import_apkg(col, apkg)
            import_apkg(col, project.dist / "test.apkg")
            have = {col.get_note(n).guid: "\x1f".join(col.get_note(n).fields) for n in col.find_notes("")}
        finally:
            col.close()
        assert {guid: have.get(guid) for guid in final} == {guid: fields for guid, (fields, _, _) in final.items()}, side
    assert project.build().output.count("up to date") == 1


def test_frozen_build_refuses_a_conflicted_lock(released):
    text = lock_text(released)
    line = next(l for l in text.splitlines() if '"card-b"' in l)
    conflicted = text.replace(line + "\n", f"<<<<<<< HEAD\n{line}\n=======\n{line}\n>>>>>>> other\n")
    (released.root / "decks/test.lock").write_text(conflicted)
    assert refused(released, "--frozen").startswith("decks/test.lock:1: has git merge-conflict markers")
    result = released.build()
    assert "resolved 1 git merge-conflict region" in result.output
    assert lock_text(released) == text


def test_conflict_with_crlf_line_endings_is_resolved(released):
    """Git on Windows (core.autocrlf) checks the lock out, conflict markers and all, with CRLF line endings."""
    text = lock_text(released)
    line = next(l for l in text.splitlines() if '"card-b"' in l)
    mod = json.loads(text)["cards"]["card-b"]["mod"]
    later = line.replace(f'"mod": {mod}', f'"mod": {mod + 1}')
    conflicted = text.replace(line + "\n", f"<<<<<<< HEAD\n{line}\n=======\n{later}\n>>>>>>> other\n")
    (released.root / "decks/test.lock").write_bytes(conflicted.replace("\n", "\r\n").encode())
    result = released.build()
    assert "resolved 1 git merge-conflict region" in result.output
    assert lock_text(released) == text.replace(line, later)


def test_conflict_between_a_lock_with_card_ordinals_and_one_without_changes_no_card(project):
    """A branch built before the lock recorded each note's cards: its record of an unchanged two-card note conflicts
    with one that lists them. Same release: no new time, no update for learners."""
    project.write({"cards/test/a.md": "## Front?\n<!-- id: both; type: basic-reversed -->\n\nBack.\n"})
    project.build()
    text = lock_text(project)
    line = next(l for l in text.splitlines() if '"both"' in l)
    assert '"cards": [0, 1]' in line
    older = line.replace('"cards": [0, 1], ', "")
    for first, second in ((line, older), (older, line)):
        conflicted = text.replace(line + "\n", f"<<<<<<< HEAD\n{first}\n=======\n{second}\n>>>>>>> other\n")
        (project.root / "decks/test.lock").write_text(conflicted, encoding="utf-8")
        result = project.build()
        assert "0 new, 0 changed, 1 unchanged" in result.output and lock_text(project) == text


def test_unresolvable_conflict_is_refused_with_its_line(released):
    text = lock_text(released)
    line = next(l for l in text.splitlines() if '"card-b"' in l)
    conflicted = text.replace(line + "\n", f"<<<<<<< HEAD\n{line}\n=======\nsomething else\n")
    (released.root / "decks/test.lock").write_text(conflicted)
    output = refused(released)
    assert "decks/test.lock:4: merge-conflict region not closed (no >>>>>>> line)" in output.splitlines()
    assert "decks/test.lock:7: cannot read this line of a conflicted lock" in output
    assert output.startswith("decks/test.lock:1: the lock has git merge-conflict markers cardsmith cannot resolve: "
                             "resolve them by hand")


def test_check_reports_what_the_build_would_refuse(released):
    """`check` plans each deck's release from its lock as a build does (and writes nothing): a lock of another deck,
    or a build that would delete most of the deck, fails `check` too."""
    released.write({"decks/other.yaml": OTHER_DECK, "cards/other/o.md": cards("card-a", "card-b")})
    released.build("other")
    mine = lock_text(released)
    (released.root / "decks/test.lock").write_text(lock_text(released, "other"), encoding="utf-8")
    result = released.run("check")
    assert result.exit_code == 1
    assert "decks/test.lock:1: this lock belongs to the deck with id 1987654321" in result.output
    (released.root / "decks/test.lock").write_text(mine, encoding="utf-8")
    released.write({"cards/test/a.md": cards("card-a")})
    result = released.run("check")
    assert result.exit_code == 1
    assert "decks/test.yaml:1: this build would delete 3 of the deck's 4 released cards" in result.output
    assert lock_text(released) == mine and released.run("check").exit_code == 1  # nothing written


# Building some decks: the identity checks still cover every deck ------------------------------------

def test_building_one_deck_never_tombstones_a_card_that_moved_to_another(released):
    """card-d moves, with its GUID, from the test deck to another; `build test` alone must not ship it as deleted
    (its note, live in the other deck, would be overwritten with "deleted" in learners' collections)."""
    guid = json.loads(lock_text(released))["cards"]["card-d"]["guid"]
    released.write({"cards/test/a.md": cards("card-a", "card-b", "card-c"),
                    "decks/other.yaml": OTHER_DECK,
                    "cards/other/o.md": f"## Question card-d?\n<!-- id: card-d; guid: {guid} -->\n\nAnswer card-d.\n"})
    result = released.build("test")
    assert "0 deleted" in result.output
    assert json.loads(lock_text(released))["deleted"] == {}
    notes = package_notes(released.dist / "test.apkg")
    assert guid not in notes and len(notes) == 3


def test_building_one_deck_refuses_a_guid_live_in_another(released):
    """A card of another deck given the GUID of a live card of the test deck is one Anki note with it: refused
    by `build other` as by a full build, and reported by `check`."""
    guid = json.loads(lock_text(released))["cards"]["card-a"]["guid"]
    released.write({"decks/other.yaml": OTHER_DECK,
                    "cards/other/o.md": f"## Taken?\n<!-- id: taken; guid: {guid} -->\n\nYes.\n"})
    message = "cards/test/a.md:2: card 'card-a' would be the same Anki note as 'taken' at cards/other/o.md:2"
    for args in ((), ("other",), ("Other Deck",)):
        result = released.run("build", *args)
        assert result.exit_code == 1 and message in result.output.splitlines(), (args, result.output)
    assert not (released.dist / "other.apkg").exists()
    result = released.run("check")
    assert result.exit_code == 1 and message in result.output.splitlines()
