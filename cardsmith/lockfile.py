"""Reading decks/<deck>.lock into a Ledger: every record checked, git merge conflicts resolved.

The lock decides which notes a learner's Anki overwrites, so a lock that is not this deck's, not
well-formed, or dated in the future is refused with `decks/<deck>.lock:line: message` saying what
to do. A lock with git merge-conflict markers (two branches each built) is resolved here: each
card's record is the later release of the two sides (the higher mod), and where both sides
released a card at the same second with different content the record is marked changed, so the
build gives the card a new time that updates the learners of both branches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.encoder import encode_basestring, encode_basestring_ascii
from pathlib import Path
from typing import Any

from .errors import ESCAPED_SURROGATE_RE, BuildError, Problem, not_text
from .files import MAX_RECORD_BYTES, read_limited
from .ledger import CLOCK_SKEW, FORMAT, Ledger

SECTIONS = ("cards", "deleted", "notetypes")
RECORD_KEYS = {  # per section: required keys and their types (a bool is not an int)
    "cards": {"guid": str, "hash": str, "mod": int, "subdeck": str, "type": str},
    "deleted": {"guid": str, "type": str, "mod": int},
    "notetypes": {"hash": str, "mod": int, "schema": dict},
}
OPTIONAL_KEYS = {"cards": {"moved_from": str, "cards": list}, "deleted": {"cards": list}, "notetypes": {}}
TOP_KEYS = {"format", "deck", *SECTIONS}
MAX_PROBLEMS = 10  # then one line says how many more
RESTORE = "restore it from git (`git checkout -- {path}`)"
MARKER_RE = re.compile(r"^(<{7}|\|{7}|={7}|>{7})(?: |$)")
CONFLICT_RE = re.compile(r"^(?:<{7}|>{7})(?: |$)", re.M)
RECORD_LINE_RE = re.compile(r'^("(?:[^"\\]|\\.)*")\s*:\s*(\{.*\})\s*,?$')
SECTION_LINE_RE = re.compile(r'^"(cards|deleted|notetypes)"\s*:\s*\{\s*\}?\s*\}?\s*,?$')
HEADER_LINE_RE = re.compile(r'^\{\s*"format"\s*:\s*(\d+)\s*(?:,\s*"deck"\s*:\s*(-?\d+)\s*)?,?$')


@dataclass(frozen=True)
class LockRead:
    """A lock as read: its ledger, how many merge-conflict regions were resolved, where its records are."""

    ledger: Ledger
    shown: str
    path: Path | None = None  # read again to find a record's line for a message (not kept: it can be large)
    resolved: int = 0
    lines: dict[tuple[str, str], int] = field(default_factory=dict)  # the records' lines, when known

    def line_of(self, section: str, key: str) -> int:
        """The line of a record (1 when it cannot be found)."""
        if (section, key) in self.lines or self.path is None:
            return self.lines.get((section, key), 1)
        try:
            return _record_line(read_limited(self.path, MAX_RECORD_BYTES).decode("utf-8", "replace"), section, key)
        except OSError:
            return 1


def _record_line(text: str, section: str, key: str) -> int:
    """The line of a record in a lock's text (1 when it cannot be found)."""
    start = text.find(f'"{section}"')
    written = {re.escape(encode_basestring(key)), re.escape(encode_basestring_ascii(key))}  # as cardsmith writes it, or escaped
    found = re.compile(r"\n\s*(?:" + "|".join(sorted(written)) + r")\s*:").search(text, max(start, 0))
    return text.count("\n", 0, found.start() + 1) + 1 if found and start >= 0 else 1


def read_lock(path: Path, shown: str, deck_id: int, deck_shown: str, now: int) -> LockRead:
    """Read and check a deck's lock file (a missing one is a first release); raise BuildError if it is refused.

    `now` is this machine's clock: a release time more than CLOCK_SKEW after it is refused.
    """
    if not path.exists() and not path.is_symlink():
        return LockRead(Ledger(), shown)
    try:
        raw = read_limited(path, MAX_RECORD_BYTES)
    except OSError as error:
        raise BuildError([Problem(shown, 1, f"cannot read the lock file: {error.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BuildError([Problem(shown, raw[:error.start].count(b"\n") + 1,
                                  f"not UTF-8 text, so not a lock cardsmith wrote; {RESTORE.format(path=shown)}")]
                         ) from None
    if ("\n<<<<<<<" in text or text.startswith("<<<<<<<")) and CONFLICT_RE.search(text):  # (the `in` is quicker)
        read = _resolve_conflict(text, shown, path)
    else:
        read = LockRead(_ledger(_load_json(text, shown), text, shown), shown, path)
    _check_deck(read, deck_id, deck_shown)
    _check_times(read, now)
    return read


def _load_json(text: str, shown: str) -> Any:
    """The lock's JSON; a syntax error or a key given twice is refused with its line."""
    try:
        data = json.loads(text)
    except ValueError as error:
        line = getattr(error, "lineno", 1)
        raise BuildError([Problem(shown, line, f"not valid JSON ({getattr(error, 'msg', error)}), so not a lock "
                                  f"cardsmith wrote: {RESTORE.format(path=shown)}, or delete it to start a new "
                                  "release history (learners then get every card as a new note)")]) from None
    records = sum(len(data.get(s, ())) for s in SECTIONS if isinstance(data.get(s), dict)) if isinstance(data, dict) else 0
    if text.count('\n "') != records:  # not one record per line as cardsmith writes it: look for repeated keys
        def no_repeats(pairs: list[tuple[str, Any]]) -> dict:
            seen: dict[str, Any] = {}
            for key, value in pairs:
                if key in seen:
                    raise BuildError([Problem(shown, _line_of_second(text, key), f"'{key}' appears twice; "
                                              f"{RESTORE.format(path=shown)}")])
                seen[key] = value
            return seen
        json.loads(text, object_pairs_hook=no_repeats)
    return data


def _line_of_second(text: str, key: str) -> int:
    needle = encode_basestring(key) + ":"
    return _line_of_text(text, needle, text.find(needle) + 1)


def _line_of_text(text: str, needle: str, start: int = 0) -> int:
    """The line where `needle` first occurs from `start` (1 when it does not)."""
    return text.count("\n", 0, max(text.find(needle, start), 0)) + 1


def _ledger(data: Any, text: str, shown: str) -> Ledger:
    """The checked ledger of a lock's JSON (`text`); BuildError listing what is wrong."""
    fix = f"{RESTORE.format(path=shown)}, or delete it to start a new release history (learners then get new notes)"
    if not isinstance(data, dict):
        raise BuildError([Problem(shown, 1, f"not a lock file (a JSON object with {', '.join(SECTIONS)}); {fix}")])
    problems = []
    unknown = sorted(set(data) - TOP_KEYS)
    missing = [key for key in ("format", *SECTIONS) if key not in data]
    if unknown or missing:
        what = "; ".join(filter(None, (unknown and f"unknown keys {', '.join(map(repr, unknown))}",
                                       missing and f"missing keys {', '.join(map(repr, missing))}")))
        problems.append(Problem(shown, 1, f"{what} (a lock has {', '.join(sorted(TOP_KEYS))}); {fix}"))
    fmt = data.get("format")
    if "format" in data and (type(fmt) is not int or fmt != FORMAT):
        newer = type(fmt) is int and fmt > FORMAT
        problems.append(Problem(shown, 1, f"lock format {fmt!r} " + (
            "is newer than this cardsmith reads: update cardsmith" if newer else f"is not {FORMAT}; {fix}")))
    deck = data.get("deck")
    if deck is not None and type(deck) is not int:
        problems.append(Problem(shown, 1, f"'deck' must be the deck's id (a whole number), not {deck!r}; {fix}"))
    for section in SECTIONS:
        if section in data and not isinstance(data[section], dict):
            problems.append(Problem(shown, _line_of_text(text, f'"{section}"'), f"'{section}' must be an object; {fix}"))
    if problems:
        raise BuildError(problems)
    ledger = Ledger(data["cards"], data["deleted"], data["notetypes"], deck)
    escaped = ESCAPED_SURROGATE_RE.search(text) is not None  # cardsmith writes no such escape: check every record
    for section in SECTIONS:
        records = getattr(ledger, section)
        for key in records if section != "cards" or escaped else _unusual_cards(records):
            message = record_problem(section, records[key], key)
            if message:
                problems.append(Problem(shown, _record_line(text, section, key), f"{_what(section, key)}: {message}; {fix}"))
    if problems:
        raise BuildError(_capped(problems))
    return ledger


def _unusual_cards(records: dict) -> list[str]:
    """The cards whose records are not plainly well-formed (record_problem says what is wrong, if anything).

    The usual record, checked inline: a 100,000-card lock is read on every build.
    """
    unusual = []
    for key, r in records.items():
        if not (type(r) is dict and len(r) == 5 and type(r.get("mod")) is int and type(r.get("guid")) is str
                and type(r.get("hash")) is str and type(r.get("subdeck")) is str and type(r.get("type")) is str
                and r["mod"] >= 0 and r["guid"]):
            unusual.append(key)
    return unusual


def record_problem(section: str, record: Any, key: str = "") -> str | None:
    """What is wrong with one record of a section, or with its key (None: nothing)."""
    if type(record) is not dict:
        return "must be an object"
    wrong = not_text(json.dumps([key, record], ensure_ascii=False))
    if wrong:
        return wrong
    required, optional = RECORD_KEYS[section], OPTIONAL_KEYS[section]
    keys = record.keys()
    if keys != required.keys():
        missing = sorted(required.keys() - keys)
        unknown = sorted(keys - required.keys() - optional.keys())
        if missing or unknown:
            return "; ".join(filter(None, (missing and f"missing {', '.join(missing)}",
                                           unknown and f"unknown {', '.join(unknown)}")))
    for key, value in record.items():
        kind = required.get(key) or optional[key]
        if type(value) is not kind:
            what = {int: "a whole number", str: "text", list: "a list"}.get(kind, "an object")
            return f"'{key}' must be {what}"
    if record["mod"] < 0:
        return "'mod' must not be negative"
    cards = record.get("cards")
    if cards is not None and (not cards or any(type(o) is not int or o < 0 for o in cards) or cards != sorted(set(cards))):
        return "'cards' must list the note's card ordinals (whole numbers from 0, increasing)"
    if section != "notetypes" and not record["guid"]:
        return "'guid' must not be empty"
    if section == "notetypes" and not _is_schema(record["schema"]):
        return "'schema' must hold 'fields' and 'templates', each a list of [id, name]"
    return None


def _is_schema(schema: dict) -> bool:
    return schema.keys() == {"fields", "templates"} and all(
        type(rows) is list and all(type(row) is list and len(row) == 2 and type(row[0]) is int
                                   and type(row[1]) is str for row in rows)
        for rows in schema.values())


def _what(section: str, key: str) -> str:
    return {"cards": f"card '{key}'", "deleted": f"deleted card '{key}'", "notetypes": f"note type '{key}'"}[section]


def _capped(problems: list[Problem]) -> list[Problem]:
    """At most MAX_PROBLEMS problems, then one that says how many more."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    last = problems[MAX_PROBLEMS - 1]
    more = Problem(last.path, last.line, f"... and {len(problems) - MAX_PROBLEMS + 1} more problems like these")
    return problems[:MAX_PROBLEMS - 1] + [more]


def _check_deck(read: LockRead, deck_id: int, deck_shown: str) -> None:
    """A lock of another deck (copied over, or the deck's id changed) is refused."""
    found = read.ledger.deck_id
    if found is not None and found != deck_id:
        raise BuildError([Problem(read.shown, 1, (
            f"this lock belongs to the deck with id {found}, but {deck_shown} has id {deck_id}. If the lock was "
            f"copied from another deck, {RESTORE.format(path=read.shown)}. If you changed the deck's id, change "
            "it back: a new id gives every card a new GUID, so learners would get every card twice and the old "
            f"ones never updated. Only to start a new deck on purpose, delete {read.shown}"))])


def _check_times(read: LockRead, now: int) -> None:
    """A release time in the future is refused: Anki would overwrite learners' own edits until then."""
    limit = now + CLOCK_SKEW
    late = [(section, key, record["mod"]) for section in SECTIONS
            for key, record in getattr(read.ledger, section).items() if record["mod"] > limit]
    if late:
        section, key, mod = max(late, key=lambda item: item[2])
        others = f" (and {len(late) - 1} more records)" if len(late) > 1 else ""
        raise BuildError([Problem(read.shown, read.line_of(section, key), (
            f"{_what(section, key)}{others} has the release time {mod} ({_date(mod)}), later than this machine's "
            f"clock ({_date(now)}) by more than {CLOCK_SKEW // 60} minutes: Anki would overwrite learners' own "
            "edits of it on every import until then. Was it typed by hand, or built on a machine with a wrong "
            f"clock? Fix that clock, or {RESTORE.format(path=read.shown)}"))])


def _date(seconds: int) -> str:
    from datetime import datetime, timezone  # only for this message

    try:
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return "far in the future"


# Git merge conflicts ------------------------------------------------------------------------------

def _resolve_conflict(text: str, shown: str, path: Path) -> LockRead:
    """A lock with git's conflict markers, resolved: both sides' records, per card the later release."""
    sides: list[list[tuple[int, str]]] = [[], []]
    state, regions, opened = "both", 0, 0
    problems = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")  # a CRLF checkout (git's core.autocrlf), markers and all
        marker = MARKER_RE.match(line)
        kind = marker.group(1)[0] if marker else ""
        if kind == "<" and state == "both":
            state, opened = "ours", number
        elif kind == "|" and state == "ours":
            state = "base"  # diff3 style: the common ancestor's lines are not needed
        elif kind == "=" and state in ("ours", "base"):
            state = "theirs"
        elif kind == ">" and state == "theirs":
            state, regions = "both", regions + 1
        elif kind:
            problems.append(Problem(shown, number, f"merge-conflict marker {line[:7]} out of place"))
        elif state in ("both", "ours"):
            sides[0].append((number, line))
            if state == "both":
                sides[1].append((number, line))
        elif state == "theirs":
            sides[1].append((number, line))
    if state != "both":
        problems.append(Problem(shown, opened, "merge-conflict region not closed (no >>>>>>> line)"))
    lines: dict[tuple[str, str], int] = {}
    parsed = [_parse_side(side, shown, problems) for side in sides]
    if problems:
        raise BuildError(_capped(problems + [Problem(shown, 1, "the lock has git merge-conflict markers cardsmith "
                                                      "cannot resolve: resolve them by hand (keep both sides' "
                                                      "lines, one line per card), then build again")]))
    headers = {header for header, _ in parsed}
    formats = {fmt for fmt, _ in headers}
    decks = {deck for _, deck in headers if deck is not None}
    if formats != {FORMAT} or len(decks) > 1:
        raise BuildError([Problem(shown, 1, f"the two sides of the merge conflict are locks of different formats "
                                  f"or decks ({', '.join(map(str, sorted(formats | decks)))}); "
                                  "resolve the conflict by hand")])
    ledger = Ledger(deck_id=next(iter(decks), None))
    for card_id in sorted({key for _, records in parsed for section in ("cards", "deleted") for key in records[section]}):
        candidates = [(record, line, section == "cards") for _, records in parsed for section in ("cards", "deleted")
                      for record, line in records[section].get(card_id, ())]
        record, line, live = _later(candidates)
        (ledger.cards if live else ledger.deleted)[card_id] = record
        lines["cards" if live else "deleted", card_id] = line
    for key in sorted({key for _, records in parsed for key in records["notetypes"]}):
        candidates = [(record, line, True) for _, records in parsed for record, line in records["notetypes"].get(key, ())]
        record, lines["notetypes", key], _ = _later(candidates)
        ledger.notetypes[key] = record
    return LockRead(ledger, shown, path, regions, lines)


def _later(candidates: list[tuple[dict, int, bool]]) -> tuple[dict, int, bool]:
    """The later release of a card (a live record over a tombstone of the same second).

    Where the other side released something different at that same second, the winner's hash is
    cleared: the build then sees the card as changed and gives it a time after both releases.
    """
    record, line, live = max(candidates, key=lambda c: (c[0]["mod"], c[2], "cards" in c[0]))
    if "hash" in record and any(other["mod"] == record["mod"] and _released(other) != _released(record)
                                for other, _, _ in candidates):
        record = {**record, "hash": ""}
    return record, line, live


def _released(record: dict) -> dict:
    """What a record says was released: not the note's card ordinals, which follow from it (a lock written before
    they were recorded lacks them)."""
    return {key: value for key, value in record.items() if key != "cards"}


def _parse_side(lines: list[tuple[int, str]], shown: str, problems: list[Problem]
                ) -> tuple[tuple[int, int | None], dict[str, dict[str, list[tuple[dict, int]]]]]:
    """One side of a conflicted lock, read line by line (its commas may not fit after the merge)."""
    header: tuple[int, int | None] = (-1, None)
    section = ""
    records: dict[str, dict[str, list[tuple[dict, int]]]] = {name: {} for name in SECTIONS}
    for number, line in lines:
        stripped = line.strip()
        if not stripped or stripped in ("}", "},", "}}"):
            continue
        if match := HEADER_LINE_RE.match(stripped):
            header = (int(match.group(1)), int(match.group(2)) if match.group(2) else None)
        elif match := SECTION_LINE_RE.match(stripped):
            section = match.group(1)
        elif (match := RECORD_LINE_RE.match(stripped)) and section:
            try:
                key, record = json.loads(match.group(1)), json.loads(match.group(2))
            except ValueError:
                problems.append(Problem(shown, number, "cannot read this line of a conflicted lock"))
                continue
            message = record_problem(section, record, key)
            if message:
                problems.append(Problem(shown, number, f"{_what(section, key)}: {message}"))
            else:
                records[section].setdefault(key, []).append((record, number))
        else:
            problems.append(Problem(shown, number, "cannot read this line of a conflicted lock "
                                    "(cardsmith writes one record per line)"))
    return header, records
