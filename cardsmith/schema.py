"""The one way a YAML mapping is checked (deck files, notetype.yaml and its fields and templates, front
matter): each key declared once with what it is for and how its value is checked; every problem is
collected with its line, unknown keys are named with the valid ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import Problem
from .yamlfile import LineDict, line_of


class Invalid(ValueError):
    """Why a value is refused: a reason that starts with "must" is said of its key (`'id' must be …`), any other
    text as it is, both on the key's line; a Problem where it says."""

    def __init__(self, *reasons: str | Problem):
        super().__init__(*reasons)
        self.reasons = reasons


@dataclass(frozen=True)
class Key:
    """One key of a mapping: what it is for, how its value is checked (and converted), and when it is absent,
    either a problem (`required`) or `default`."""

    doc: str
    check: Callable[[Any], Any] = lambda value: value
    required: bool = False
    default: Any = None


def read_mapping(data: dict, keys: dict[str, Key], shown: str, first_line: int = 1, what: str = "key",
                 missing_line: int | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """The checked values of a mapping loaded by yamlfile.load_yaml, and every problem found in it (a missing
    key is said on `missing_line`, by default the first)."""
    problems = [Problem(shown, line_of(data, str(key), first_line),
                        f"unknown {what} '{key}' (valid keys: {', '.join(keys)})") for key in data if key not in keys]
    values: dict[str, Any] = {}
    for name, key in keys.items():
        if name not in data and key.required:
            problems.append(Problem(shown, missing_line or first_line, f"missing required key '{name}': {key.doc}"))
            continue
        if name not in data:
            values[name] = key.default
            continue
        try:
            values[name] = key.check(data[name])
        except Invalid as invalid:
            line = line_of(data, name, first_line)
            problems += [reason if isinstance(reason, Problem) else
                         Problem(shown, line, f"'{name}' {reason}" if reason.startswith("must") else reason)
                         for reason in invalid.reasons]
    return values, problems


def each(keys: dict[str, Key], shown: str) -> Callable[[Any], list[dict[str, Any]]]:
    """A check for a list of mappings (the fields of a note type): each item read with `keys` (its problems
    on its own lines)."""
    def check(items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            return []  # the caller says what is missing
        values: list[dict[str, Any]] = []
        problems: list[str | Problem] = []
        for number, item in enumerate(items, 1):
            if not isinstance(item, LineDict):
                problems.append(f"must be a list of mappings with keys: {', '.join(keys)} (item {number} is not)")
                continue
            found, wrong = read_mapping(item, keys, shown, missing_line=item.line)
            problems += wrong
            if not wrong:
                values.append(found)
        if problems:
            raise Invalid(*problems)
        return values
    return check


# Checks shared by the schemas -------------------------------------------------------------------

def string(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("must be a string")
    return value


def nonempty_string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("must be a non-empty string")
    return value.strip()


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid("must be true or false")
    return value


def integer(what: str, low: int = 1, high: int = 1 << 63) -> Callable[[Any], int]:
    """A whole number in [low, high) (`what` says what it must be)."""
    def check(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value < high:
            raise Invalid(f"must be {what}")
        return value
    return check


def one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise Invalid(f"must be one of: {', '.join(choices)}")
        return value
    return check
