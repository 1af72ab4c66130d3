"""`cardsmith diff [REV]`: the cards that changed between a git revision and the working tree, before and after.

    git archive REV   the project as it was at REV, into a temporary folder
    Project.prepare   both versions' notes (the working tree's through the render cache)
    changes           notes matched by GUID: new, deleted, changed (which fields, the tags, note type, subdeck)
    preview.page      before and after side by side in the preview's look, as dist/diff/index.html (math
                      typeset offline, no script of a card ever run), and a text summary
"""

from __future__ import annotations

import html
import secrets
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError, Problem, counted, one_line
from ..model import DeckBuild, Note
from ..notetypes import NoteType
from ..pipeline import Project
from .preview import entry, page, write_site

DIFF_CSS = """
.df-change { margin: 18px 0; }
.df-change h3 { margin: 0 0 4px; font-size: 17px; overflow-wrap: anywhere; }
.df-what { font-weight: normal; opacity: .75; }
.df-pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
@media (max-width: 720px) { .df-pair { grid-template-columns: 1fr; } }
.df-label { font-size: 13px; opacity: .7; margin: 4px 0 -6px; }
.df-none { padding: 12px; border: 1px dashed #c8c8c8; border-radius: 6px; opacity: .7; }
.pv-main.df-main { max-width: 90em; }
"""


@dataclass(frozen=True)
class CardChange:
    """One card that differs between the two versions (before or after is None: new, or deleted)."""

    before: Note | None
    after: Note | None
    what: tuple[str, ...]  # the fields that changed, "tags", "note type", "subdeck"

    @property
    def note(self) -> Note:
        return self.after or self.before  # type: ignore[return-value]

    @property
    def kind(self) -> str:
        return "new" if self.before is None else "deleted" if self.after is None else "changed"

    def line(self) -> str:
        what = f": {', '.join(self.what)}" if self.what else ""
        return f"{self.kind}: {self.note.card_id} ({self.note.shown_path}:{self.note.line}){what}"


@dataclass(frozen=True)
class DeckDiff:
    name: str
    changes: list[CardChange]


@dataclass(frozen=True)
class DiffResult:
    rev: str
    decks: list[DeckDiff]
    notices: list[str]  # about the sources at REV (problems, no project there)
    index: Path

    def lines(self, root: Path) -> list[str]:
        from ..errors import display_path

        lines = list(self.notices)
        for deck in self.decks:
            kinds = [c.kind for c in deck.changes]
            lines.append(f"{deck.name}: {kinds.count('changed')} changed, {kinds.count('new')} new, "
                         f"{kinds.count('deleted')} deleted since {self.rev}")
            lines += ["  " + change.line() for change in deck.changes]
        if not self.decks:
            lines.append(f"No card changed since {self.rev}.")
        lines.append(f"Before and after: {display_path(self.index, root)}")
        return [one_line(line) for line in lines]  # a file name at REV may hold a line break or ESC


def card_diff(project: Project, rev: str, out: Path) -> DiffResult:
    """Compare the working tree's decks with those at `rev`; write the page into `out`. Raise BuildError on the
    working tree's problems, or when `rev` is no revision of the project's git repository."""
    builds, problems = project.prepare_all(project.decks)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BuildError(errors)
    with tempfile.TemporaryDirectory(prefix="cardsmith-diff-") as tmp:
        old_root, notices = _checkout(project.root, rev, Path(tmp))
        old_builds, old_notetypes = _old_builds(old_root, rev, notices) if old_root else ([], {})
        decks = _compare(old_builds, builds, project.notetypes)
        media = {m.name: m.source for deck in decks for change in deck.changes
                 for note in (change.before, change.after) if note is not None for m in note.media}
        nonce = secrets.token_urlsafe(18)
        notetypes = (old_notetypes, project.notetypes)
        write_site(out, page(project, f"Cards changed since {rev}", _body(decks, rev, notetypes), "", nonce,
                             DIFF_CSS), media, "cardsmith diff")
    return DiffResult(rev, [d for d in decks if d.changes], notices, out / "index.html")


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True)
    except OSError as error:
        raise BuildError([Problem("git", 0, f"cannot run git ({error.strerror}): `cardsmith diff` needs it")]) from None


def _checkout(root: Path, rev: str, tmp: Path) -> tuple[Path | None, list[str]]:
    """The project's folder as it was at `rev`, extracted under `tmp` (None: it did not exist then)."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise BuildError([Problem(str(root), 0, "not in a git repository: `cardsmith diff` compares with a git "
                                                "revision")])
    top_dir = Path(top.stdout.decode().strip())
    commit = _git(top_dir, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if commit.returncode != 0:
        raise BuildError([Problem(rev, 0, "not a revision of this git repository (a commit, branch or tag)")])
    sha = commit.stdout.decode().strip()
    prefix = root.resolve().relative_to(top_dir.resolve()).as_posix()
    listed = _git(top_dir, "ls-tree", "--name-only", sha, "--", prefix if prefix != "." else "decks")
    if listed.returncode != 0 or not listed.stdout.strip():
        return None, [f"{rev}: the project had no decks yet: every card is new"]
    archive = tmp / "rev.tar"
    with archive.open("wb") as stream:
        made = subprocess.run(["git", "-C", str(top_dir), "archive", "--format=tar", sha, "--",
                               prefix if prefix != "." else "."], stdout=stream, stderr=subprocess.PIPE)
    if made.returncode != 0:
        raise BuildError([Problem(rev, 0, f"git archive failed: {made.stderr.decode(errors='replace').strip()}")])
    left_out: list[str] = []

    def inside(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
        """The member as the "data" filter lets it out (no link or path out of the folder), else left out."""
        try:
            return tarfile.data_filter(member, path)
        except tarfile.FilterError:
            left_out.append(member.name)
            return None

    with tarfile.open(archive) as tar:
        tar.extractall(tmp / "tree", filter=inside)
    notices = [f"{rev}: {name}: a symbolic link out of the project there: left out" for name in left_out]
    return tmp / "tree" / (prefix if prefix != "." else ""), notices


def _old_builds(root: Path, rev: str, notices: list[str]) -> tuple[list[DeckBuild], dict[str, NoteType]]:
    """The decks at `rev`, as far as they build (what does not is left out, and said)."""
    try:
        old = Project(root, cache=False)
    except BuildError as error:
        notices.append(f"{rev}: its decks or note types do not load ({error.problems[0]}): every card counts as new")
        return [], {}
    builds, problems = old.prepare_all(old.decks)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        notices.append(f"{rev}: {counted(len(errors), 'problem')} in the sources there "
                       f"(first: {errors[0]}); cards that did not build are left out of 'before'")
    return builds, old.notetypes


def _compare(old: list[DeckBuild], new: list[DeckBuild], notetypes: dict[str, NoteType]) -> list[DeckDiff]:
    """Each deck's changed cards, matched by GUID (decks by id), in the working tree's order, then the deleted."""
    before = {b.config.deck_id: b for b in old}
    pairs = [(before.get(b.config.deck_id), b) for b in new]
    pairs += [(b, None) for b in old if b.config.deck_id not in {n.config.deck_id for n in new}]
    decks = []
    for previous, current in pairs:
        old_notes = {n.guid: n for n in previous.notes} if previous else {}
        new_notes = {n.guid: n for n in current.notes} if current else {}
        changes = []
        for guid, note in new_notes.items():
            what = _what(old_notes[guid], note, notetypes[note.note_type].field_names) if guid in old_notes else ()
            if guid not in old_notes or what:
                changes.append(CardChange(old_notes.get(guid), note, what))
        changes += [CardChange(note, None, ()) for guid, note in old_notes.items() if guid not in new_notes]
        decks.append(DeckDiff((current or previous).config.name, changes))  # type: ignore[union-attr]
    return decks


def _what(before: Note, after: Note, names: list[str]) -> tuple[str, ...]:
    """What differs between two versions of a note: its fields (by name), tags, note type, subdeck."""
    if before.note_type != after.note_type:
        return ("note type",)
    what = [name for name, a, b in zip(names, before.fields, after.fields) if a != b]
    if {t.casefold() for t in before.tags} != {t.casefold() for t in after.tags}:
        what.append("tags")
    if before.subdeck != after.subdeck:
        what.append("subdeck")
    return tuple(what)


def _body(decks: list[DeckDiff], rev: str, notetypes: tuple[dict[str, NoteType], dict[str, NoteType]]) -> str:
    """The page: per deck, each changed card's before and after side by side."""
    sections = []
    for deck in decks:
        if not deck.changes:
            continue
        items = []
        for change in deck.changes:
            sides = []
            for label, note, types, none in ((f"before ({rev})", change.before, notetypes[0], "new card"),
                                              ("after (working tree)", change.after, notetypes[1], "deleted")):
                shown = entry(types[note.note_type], note) if note is not None else f'<p class="df-none">{none}</p>'
                sides.append(f'<div class="df-side"><div class="df-label">{html.escape(label)}</div>{shown}</div>')
            what = html.escape(change.kind + (": " + ", ".join(change.what) if change.what else ""))
            items.append(f'<section class="df-change" id="change-{html.escape(change.note.card_id)}">'
                         f'<h3>{html.escape(change.note.card_id)} <span class="df-what">{what}</span></h3>'
                         f'<div class="df-pair">{"".join(sides)}</div></section>')
        sections.append(f'<section class="pv-deck"><h2>{html.escape(deck.name)}</h2>{"".join(items)}</section>')
    count = sum(len(d.changes) for d in decks)
    summary = f"{counted(count, 'card')} changed" if count else "No card changed"
    return (f'<div class="pv-bar"><button id="pv-night" type="button">Night mode</button></div>'
            f'<main class="pv-main df-main"><h1>Cards changed since {html.escape(rev)}</h1>'
            f'<p>{summary} between {html.escape(rev)} and the working tree.</p>{"".join(sections)}</main>')
