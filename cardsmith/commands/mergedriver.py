"""`cardsmith merge-driver`: git's merge of card files card by card, and of lock files record by record.

Git merges text line by line, so two branches that each add a card at the end of one file (or edit the
last lines of one card and the first of the next) conflict although they touch different cards. As a git
merge driver (`.gitattributes`: `merge=cardsmith`; `cardsmith merge-driver --install` sets it up in a clone):

- a card file is split into its front matter and its cards (by id, as the parser finds them) and merged
  per card: a card changed on one side only takes that side; added on either side, it is kept (the other
  side's new cards after this side's, at the place it had); deleted on one side and unchanged on the other,
  it goes. A card changed on both sides is merged line by line (git merge-file); what still conflicts gets
  git's markers, which the build refuses, and the merge is reported as conflicted (exit 1). Two new cards
  with one id are both kept and reported: the build then refuses them with both locations.
- a lock file is merged line by line and, where git leaves conflict markers, resolved as the build
  resolves them (lockfile.py: per card the later release); the result is a lock as the build writes it.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BuildError, Problem, counted
from ..files import read_limited, refuse_symlinks, write_atomic
from ..lockfile import read_lock
from ..parse import card_starts, parse_text, split_lines

NAME = "cardsmith"
ATTRIBUTES = ("cards/**/*.md merge=cardsmith", "decks/*.lock merge=cardsmith")
DECK_RE = re.compile(r'"deck"\s*:\s*(-?\d+)')
END = object()  # the end of a file's cards, in _order


@dataclass(frozen=True)
class Block:
    """A part of a card file: its front matter and text before the first card (key None), or a card (its id)."""

    key: str | None
    text: str


def merge_file(base: Path, ours: Path, theirs: Path, shown: str) -> list[str]:
    """Merge `theirs` into `ours` (written in place, as git expects of a driver) with `base` as the common
    ancestor; return what is left for the user (empty: a clean merge)."""
    if shown.endswith(".lock"):
        return _merge_lock(base, ours, theirs, shown)
    try:
        sides = [path.read_bytes().decode("utf-8") for path in (base, ours, theirs)]
    except UnicodeDecodeError:
        return _text_merge(base, ours, theirs, shown, write=True)[1]
    text, left = merge_cards(*sides, shown)
    ours.write_bytes(text.encode("utf-8"))
    return left


def merge_cards(base: str, ours: str, theirs: str, shown: str = "") -> tuple[str, list[str]]:
    """Three versions of a card file merged card by card: the text, and the conflicts left."""
    bom = "\ufeff" if ours.startswith("\ufeff") else ""
    split = [_blocks(text.removeprefix("\ufeff"), shown) for text in (base, ours, theirs)]
    if split[0] is None or split[1] is None or split[2] is None:
        return _text_merge_texts(base, ours, theirs, shown)
    old, mine, other = ({b.key: b.text for b in blocks} for blocks in split)
    keys = [[b.key for b in blocks] for blocks in split]
    left: list[str] = []
    merged: dict[str | None, list[str]] = {}
    for key in dict.fromkeys(keys[1] + keys[2] + keys[0]):
        texts, conflict = _merge_block(old.get(key), mine.get(key), other.get(key), shown)
        if conflict:
            left.append(f"{shown}: {'card ' + repr(key) if key else 'the text before the first card'}: {conflict}")
        if texts:
            merged[key] = texts
    order = _order(keys[0], keys[1], keys[2], set(merged))
    parts = [(key, text) for key in order if key in merged for text in merged[key]]
    newline = "\r\n" if "\r\n" in ours else "\n"
    out = []
    for index, (key, text) in enumerate(parts):
        if key is not None and index < len(parts) - 1:  # a card with another after it: a line between them
            if not text.endswith(("\n", "\r")):
                text += newline
            if text.strip() and split_lines(text)[-1].strip():
                text += newline
        out.append(text)
    return bom + "".join(out), left


def _blocks(text: str, shown: str) -> list[Block] | None:
    """A card file's front part and cards, each with its lines (None: two cards share an id, or one has none)."""
    lines = split_lines(text)
    starts, _ = card_starts([line.rstrip("\r\n") for line in lines])
    blocks = [Block(None, "".join(lines[:starts[0] if starts else len(lines)]))]
    seen: set[str] = set()  # a set: a file of 20,000 cards took half a minute with a list
    for number, start in enumerate(starts):
        chunk = "".join(lines[start:starts[number + 1] if number + 1 < len(starts) else len(lines)])
        notes = parse_text(chunk, Path(shown), shown).notes
        if len(notes) != 1 or notes[0].card_id in seen:
            return None  # the text merge of git handles what is not one card per id
        seen.add(notes[0].card_id)
        blocks.append(Block(notes[0].card_id, chunk))
    return blocks


def _merge_block(base: str | None, ours: str | None, theirs: str | None, shown: str) -> tuple[list[str], str]:
    """One card (or the front part) in three versions: its text(s) after the merge, and what conflicts. The blank
    lines after a card are where it stands in its file (last or not), not what it says: they are not compared."""
    old, mine, other = (_content(text) for text in (base, ours, theirs))
    if mine == other or other == old:
        return ([ours] if ours is not None else []), ""
    if mine == old:
        return ([theirs] if theirs is not None else []), ""
    if ours is not None and theirs is not None and base is None:  # added on both sides: both kept, the build
        return [ours, theirs], "added on both branches with different text: the build refuses the id twice"
    if ours is None or theirs is None:
        kept = ours if ours is not None else theirs
        side = "ours" if ours is None else "theirs"
        return [_markers(kept or "", "", side)], f"deleted on one branch ({side}) and changed on the other"
    text, conflicts = _text_merge_texts(base or "", ours, theirs, shown)
    return [text], "changed on both branches: resolve git's conflict markers" if conflicts else ""


def _content(text: str | None) -> str | None:
    return text.rstrip("\r\n \t") if text is not None else None


def _markers(kept: str, gone: str, side: str) -> str:
    """A deleted-and-changed card between git's conflict markers (the build refuses them until resolved)."""
    newline = "\r\n" if "\r\n" in kept else "\n"
    body = kept if kept.endswith(("\n", "\r")) else kept + newline
    ours, theirs = (gone, body) if side == "ours" else (body, gone)
    return f"<<<<<<< ours{newline}{ours}======={newline}{theirs}>>>>>>> theirs{newline}"


def _order(base: list, ours: list, theirs: list, kept: set) -> list:
    """Ours' order, with the cards only theirs added after their predecessor there (after the cards ours added
    there, and those the merge drops). Linked by successor, in time linear in the cards (a list's index and
    insert made a file of 20,000 cards take seconds)."""
    added_by_us = set(ours) - set(base)
    successor = dict(zip(ours, ours[1:] + [END]))
    for index, key in enumerate(theirs):
        if key in successor:
            continue
        at = theirs[index - 1]  # the predecessor: already placed (the front part, first of every list, is ours)
        while successor[at] is not END and (successor[at] in added_by_us or successor[at] not in kept):
            at = successor[at]
        successor[key], successor[at] = successor[at], key
    order, key = [], ours[0] if ours else END
    while key is not END:
        order.append(key)
        key = successor[key]
    return order + [key for key in base if key not in successor]


def _text_merge(base: Path, ours: Path, theirs: Path, shown: str, write: bool) -> tuple[bytes, list[str]]:
    """git's own line-by-line merge (conflict markers where the sides overlap)."""
    done = subprocess.run(["git", "merge-file", "-p", "-L", "ours", "-L", "base", "-L", "theirs", str(ours),
                           str(base), str(theirs)], capture_output=True)
    if done.returncode < 0 or done.returncode > 127:
        raise BuildError([Problem(shown, 0, f"git merge-file failed: {done.stderr.decode(errors='replace')}")])
    if write:
        ours.write_bytes(done.stdout)
    return done.stdout, [f"{shown}: {counted(done.returncode, 'conflict')} git leaves marked"] if done.returncode else []


def _text_merge_texts(base: str, ours: str, theirs: str, shown: str) -> tuple[str, list[str]]:
    with tempfile.TemporaryDirectory(prefix="cardsmith-merge-") as tmp:
        paths = [Path(tmp) / name for name in ("base", "ours", "theirs")]
        for path, text in zip(paths, (base, ours, theirs)):
            path.write_bytes(text.encode("utf-8"))
        merged, left = _text_merge(paths[0], paths[1], paths[2], shown, write=False)
    return merged.decode("utf-8"), left


def _merge_lock(base: Path, ours: Path, theirs: Path, shown: str) -> list[str]:
    """A lock merged line by line, its conflict regions resolved as the build resolves them."""
    merged, _ = _text_merge(base, ours, theirs, shown, write=True)
    found = DECK_RE.search(merged.decode("utf-8", "replace"))
    try:
        ledger = read_lock(ours, shown, int(found.group(1)) if found else 0, shown, int(time.time())).ledger
    except BuildError as error:
        return [str(problem) for problem in error.problems]
    ledger.write(ours)
    return []


def install(root: Path) -> list[str]:
    """Set the driver up in the git repository of `root` (its config) and the project's .gitattributes."""
    from .scaffold import command_path

    command = command_path()
    if command is None:
        command = "cardsmith"  # the one on PATH is this one
    elif command.endswith(" -m cardsmith"):
        command = f"{shlex.quote(sys.executable)} -m cardsmith"
    else:
        command = shlex.quote(command)
    driver = f"{command} merge-driver -- %O %A %B %P"  # `--`: a path named `--install` or `-o` is no option
    attributes = root / ".gitattributes"
    refuse_symlinks(root, attributes)  # a repository's symlink there would have us rewrite a file outside it
    if shutil.which("git") is None:
        raise BuildError([Problem("git", 0, "git is not installed")])
    for key, value in ((f"merge.{NAME}.name", "cardsmith: card files card by card, lock files record by record"),
                       (f"merge.{NAME}.driver", driver)):
        done = subprocess.run(["git", "-C", str(root), "config", key, value], capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError([Problem(str(root), 0, f"git config failed: {done.stderr.strip()}")])
    try:
        have = read_limited(attributes).decode("utf-8").splitlines() if attributes.exists() else []
    except (OSError, UnicodeDecodeError) as error:  # a FIFO, a directory, not text
        why = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise BuildError([Problem(".gitattributes", 0, f"cannot read it ({why}): fix or remove it")]) from None
    missing = [line for line in ATTRIBUTES if line not in have]
    if missing:
        write_atomic(attributes, ["\n".join(have + missing) + "\n"])
    return [f"git config merge.{NAME}.driver \"{driver}\""] + [f".gitattributes: {line}" for line in missing]
