"""Issue 16, item 3: many maintainers on one deck. Two branches that add, edit and delete different cards of one
card file merge in git with cardsmith's merge driver and build with no manual step, to the deck a build of the
merged sources from scratch makes (checked with the real `anki` package); two cards given one id on two
branches fail the build with both locations."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import DECK_YAML, REPO, Project, import_apkg

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}


def card(card_id: str, answer: str, question: str | None = None) -> str:
    return f"## {question or card_id.capitalize() + '?'}\n<!-- id: {card_id} -->\n\n{answer}\n"


BASE = "\n".join([card("one", "One."), card("two", "Two, with $x^2$."), card("three", "Three."),
                  card("four", "Four.")])
OURS = "\n".join([card("one", "One."), card("two", "Two, with $x^2 + y$."), card("three", "Three."),
                  card("four", "Four."), card("ours-new", "Added on our branch.")])
THEIRS = "\n".join([card("one", "One."), card("two", "Two, with $x^2$."), card("three", "Three, edited."),
                    card("theirs-new", "Added on their branch.")])  # four deleted
MERGED = "\n".join([card("one", "One."), card("two", "Two, with $x^2 + y$."), card("three", "Three, edited."),
                    card("ours-new", "Added on our branch."), card("theirs-new", "Added on their branch.")])


def git(root: Path, *args: str, code: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV})
    assert code is None or done.returncode == code, done.stdout + done.stderr
    return done


def branch(project: Project, name: str, cards: str) -> None:
    """A maintainer's branch from main: the card file edited, built, and committed with its lock."""
    git(project.root, "checkout", "-q", "-b", name, "main")
    project.write({"cards/test/a.md": cards})
    project.build("--allow-deletions")
    shutil.copy(project.dist / "test.apkg", project.root.parent / f"{name}.apkg")  # the branch's release
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", name)


def repository(tmp_path: Path, driver: bool) -> Project:
    """A deck released from main (card file and lock committed), and two branches from it."""
    project = Project(tmp_path / "deck")
    shutil.copytree(REPO / "templates", project.root / "templates")
    project.write({"decks/test.yaml": DECK_YAML, "cards/test/a.md": BASE, ".gitignore": "dist/\n.cache/\n"})
    git(project.root, "init", "-q", "-b", "main")
    if driver:
        installed = project.run("merge-driver", "--install")
        assert installed.exit_code == 0, installed.output
    project.build()
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "v1")
    branch(project, "ours", OURS)
    branch(project, "theirs", THEIRS)
    git(project.root, "checkout", "-q", "ours")
    return project


def deck_in_anki(package: Path, tmp_path: Path, name: str) -> dict[str, tuple]:
    """The live notes of a package as Anki imports them: GUID -> fields, tags, deck."""
    from anki.collection import Collection

    (tmp_path / f"anki-{name}").mkdir()
    col = Collection(str(tmp_path / f"anki-{name}" / "collection.anki2"))
    try:
        import_apkg(col, package)
        notes = [col.get_note(nid) for nid in col.find_notes("-tag:cardsmith::deleted")]
        return {n.guid: (tuple(n.fields), tuple(sorted(n.tags)), col.decks.name(n.cards()[0].did)) for n in notes}
    finally:
        col.close()


def test_plain_git_conflicts_on_neighbouring_new_cards(tmp_path):
    project = repository(tmp_path, driver=False)
    merge = git(project.root, "merge", "-q", "theirs", code=None)
    assert merge.returncode != 0 and "CONFLICT (content): Merge conflict in cards/test/a.md" in merge.stdout
    result = project.run("build")  # the markers are refused, never shipped as card text
    assert result.exit_code == 1
    assert "cards/test/a.md:" in result.stderr and "git merge-conflict marker" in result.stderr


def test_two_branches_merge_and_build_with_no_manual_step(tmp_path):
    project = repository(tmp_path, driver=True)
    merge = git(project.root, "merge", "-q", "--no-edit", "theirs")
    assert git(project.root, "status", "--porcelain").stdout == ""  # merged and committed, nothing left
    assert (project.root / "cards/test/a.md").read_text() == MERGED
    assert "<<<<<<<" not in (project.root / "decks/test.lock").read_text(), merge.stdout
    frozen = project.run("build", "--frozen")  # CI's build of the merge commit: the merged lock is current
    assert frozen.exit_code == 0, frozen.output

    # The same deck as the merged sources built from scratch (no lock, no cache, no history).
    scratch = Project(tmp_path / "scratch")
    shutil.copytree(REPO / "templates", scratch.root / "templates")
    scratch.write({"decks/test.yaml": DECK_YAML, "cards/test/a.md": MERGED})
    scratch.build()
    merged = deck_in_anki(project.dist / "test.apkg", tmp_path, "merged")
    assert merged == deck_in_anki(scratch.dist / "test.apkg", tmp_path, "scratch")
    assert len(merged) == 5

    # Learners of our branch's release get their branch's edit, card and deletion from the merged release.
    from anki.collection import Collection

    (tmp_path / "learner").mkdir()
    col = Collection(str(tmp_path / "learner" / "collection.anki2"))
    try:
        import_apkg(col, tmp_path / "ours.apkg")
        log = import_apkg(col, project.dist / "test.apkg")
        assert len(log.new) == 1 and len(log.updated) == 2  # theirs-new; three edited, four's tombstone
        deleted = [col.get_note(i) for i in col.find_notes("tag:cardsmith::deleted")]
        assert len(deleted) == 1 and "(id <code>four</code>)" in deleted[0].fields[0]
    finally:
        col.close()


def test_one_id_given_on_two_branches_fails_the_build_with_both_places(tmp_path):
    project = repository(tmp_path, driver=True)
    git(project.root, "checkout", "-q", "-b", "elsewhere", "main")
    project.write({"cards/test/b.md": card("ours-new", "The same id, another card.", "Another question?")})
    git(project.root, "add", "-A")
    git(project.root, "commit", "-qm", "same id in another file")
    git(project.root, "checkout", "-q", "ours")
    git(project.root, "merge", "-q", "--no-edit", "elsewhere")  # different files: git merges them
    result = project.run("build")
    assert result.exit_code == 1
    assert "cards/test/b.md:2: duplicate id 'ours-new' (first used at cards/test/a.md:22)" in result.stderr


def test_one_id_added_twice_in_one_file_is_a_conflict_the_build_names(tmp_path):
    project = repository(tmp_path, driver=True)
    git(project.root, "checkout", "-q", "-b", "same-file", "main")
    project.write({"cards/test/a.md": BASE + "\n" + card("ours-new", "Another card.", "Another question?")})
    git(project.root, "commit", "-qam", "same id, same file")
    git(project.root, "checkout", "-q", "ours")
    merge = git(project.root, "merge", "-q", "--no-edit", "same-file", code=None)
    assert merge.returncode != 0
    assert "card 'ours-new': added on both branches with different text" in merge.stdout + merge.stderr
    text = (project.root / "cards/test/a.md").read_text()
    assert "<<<<<<<" not in text and text.count("<!-- id: ours-new -->") == 2
    result = project.run("build")
    assert result.exit_code == 1
    assert "cards/test/a.md:27: duplicate id 'ours-new' (first used at cards/test/a.md:22)" in result.stderr


def test_the_driver_merges_card_by_card():
    from cardsmith.commands.mergedriver import merge_cards

    front = "---\r\nsubdeck: A\r\n---\r\n\r\n"
    base = front + card("one", "One.").replace("\n", "\r\n") + "\r\n" + card("two", "Line 1.\nLine 2.\nLine 3.").replace("\n", "\r\n")
    ours = base.replace("Line 1.", "Line 1, ours.")
    theirs = base.replace("Line 3.", "Line 3, theirs.").replace("subdeck: A", "subdeck: B")
    merged, left = merge_cards(base, ours, theirs, "a.md")
    assert left == [] and merged == base.replace("Line 1.", "Line 1, ours.").replace(
        "Line 3.", "Line 3, theirs.").replace("subdeck: A", "subdeck: B")  # CRLF kept, lines merged in a card

    merged, left = merge_cards(base, ours, base.replace("Line 1.", "Line 1, theirs."), "a.md")
    assert left == ["a.md: card 'two': changed on both branches: resolve git's conflict markers"]
    assert "<<<<<<< ours\r\n" in merged and "Line 1, theirs." in merged

    gone = base.replace(card("one", "One.").replace("\n", "\r\n") + "\r\n", "")
    merged, left = merge_cards(base, base.replace("One.", "One, edited."), gone, "a.md")
    assert left == ["a.md: card 'one': deleted on one branch (theirs) and changed on the other"]
    assert merged.startswith(front + "<<<<<<< ours\r\n## One?") and "=======\r\n>>>>>>> theirs\r\n" in merged


def test_files_the_driver_cannot_split_by_card_are_merged_line_by_line():
    from cardsmith.commands.mergedriver import merge_cards

    base = "## No id?\n\nA.\n"
    merged, left = merge_cards(base, base + "\nMore.\n", "## No id, really?\n\nA.\n", "a.md")
    assert left == [] and merged == "## No id, really?\n\nA.\n\nMore.\n"
