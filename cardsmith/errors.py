"""Input errors with a location: every stage collects them and reports all at once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LINE_BREAK_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, printed as `path:line: message`."""

    path: str
    line: int
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{_one_line(self.path)}:{self.line}: {prefix}{_one_line(self.message)}"


def _one_line(text: str) -> str:
    """Line breaks and control characters quoted from the input are shown escaped (`\\r`)."""
    return LINE_BREAK_RE.sub(lambda m: repr(m.group(0))[1:-1], text)


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
