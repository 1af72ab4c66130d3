"""Input errors with a location: every stage collects them and reports all at once."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LINE_BREAK_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
UNDECODED_RE = re.compile(r"[\udc80-\udcff]")  # a byte of a file name that is not UTF-8 (surrogateescape)
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")  # half of a UTF-16 pair: no character (JSON's or YAML's escape \ud800)
ESCAPED_SURROGATE_RE = re.compile(r"\\u[dD][89a-fA-F]")  # that escape in JSON text (cardsmith writes none)


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, printed as `path:line: message`."""

    path: str
    line: int  # NO_LINE: about the whole file (a note inside a package, which has no lines)
    message: str
    severity: str = "error"  # or "warning", or "notice" (what the project says it knows: never an error)

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else "note: " if self.severity == "notice" else ""
        where = one_line(self.path) + (f":{self.line}" if self.line != NO_LINE else "")
        return f"{where}: {prefix}{one_line(self.message)}"


NO_LINE = -1


def counted(count: int, noun: str) -> str:
    """`1 card`, `2 cards`: a count with its noun (a regular one), the one rule for every count a command prints."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def one_line(text: str) -> str:
    """Line breaks and control characters quoted from the input are shown escaped (`\\r`), and so
    are the bytes of a file name that are not UTF-8 (`\\xe9`) and other halves of UTF-16 pairs (`\\ud800`, from
    an escape in JSON or YAML): they cannot be printed."""
    text = LINE_BREAK_RE.sub(lambda m: repr(m.group(0))[1:-1], text)
    text = UNDECODED_RE.sub(lambda m: f"\\x{ord(m.group(0)) - 0xdc00:02x}", text)
    return SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def not_text(value: str) -> str | None:
    """Why a string from JSON or YAML (whose escapes can name half of a UTF-16 pair) is no text Anki can store, or
    None: no file can hold such a string, and Python refuses to write one."""
    found = SURROGATE_RE.search(value)
    return None if found is None else f"'\\u{ord(found.group()):04x}' is half of a UTF-16 pair, not a character"


def collapse_repeats(problems: list[Problem]) -> list[Problem]:
    """One line per distinct problem of a card: the first, counting its repeats (1 MB of `$` is one line)."""
    counts = Counter((p.path, p.message, p.severity) for p in problems)
    result = []
    for problem in problems:
        key = (problem.path, problem.message, problem.severity)
        if key not in counts:
            continue  # a repeat, counted on the first
        repeats = counts.pop(key) - 1
        if repeats:
            problem = dataclasses.replace(problem, message=f"{problem.message} (and {repeats:,} more like it in this card)")
        result.append(problem)
    return result


class BuildError(Exception):
    """Raised with every problem found once a stage cannot go on."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = sorted(problems)


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user should see it: relative to the project root when inside it."""
    if root is not None:
        if ".." not in path.parts:  # the common case, without asking the file system
            try:
                return str(path.relative_to(root))
            except ValueError:
                pass
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)
