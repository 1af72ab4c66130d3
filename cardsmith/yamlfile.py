"""YAML loading that keeps line numbers, for `path:line:` messages."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, not_text
from .files import read_limited


def read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    """A project file's text, or None with a problem when it is not readable UTF-8."""
    try:
        return read_limited(path).decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(shown, 1, "not valid UTF-8 text"))
    except OSError as exc:
        problems.append(Problem(shown, 1, f"cannot read file: {exc.strerror}"))
    return None


class LineDict(dict):
    """A mapping loaded from YAML that remembers the line of each key."""

    lines: dict[str, int]
    line: int


# Values YAML aliases may add in one document: `*alias` repeats a whole node, so nine nested
# aliases of ten items each (a "billion laughs" bomb) would build 10**9 values.
ALIAS_BUDGET = 10_000
# Characters of text aliases may repeat in one document: a few aliases of one long string (100 KB
# repeated 4,000 times) build gigabytes without many values.
ALIAS_TEXT_BUDGET = 1_000_000


class AliasBomb(Exception):
    """Aliases expand beyond ALIAS_BUDGET or ALIAS_TEXT_BUDGET; `line` (from 0) is where the anchor they repeat was defined."""

    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


@dataclass
class _Built:
    """The nodes built so far, and how many values aliases repeated."""

    nodes: set[int] = field(default_factory=set)
    repeated: int = 0
    repeated_text: int = 0


def _construct(node: yaml.Node, loader: yaml.SafeLoader, built: _Built, alias_line: int | None = None) -> Any:
    """A node as Python values. A node met again is an alias: what it repeats counts against ALIAS_BUDGET
    (`alias_line`: the line of the outermost anchor being repeated)."""
    if alias_line is None and id(node) in built.nodes:
        alias_line = node.start_mark.line
    if alias_line is not None:
        built.repeated += 1
        if isinstance(node, yaml.ScalarNode):
            built.repeated_text += len(node.value)
        if built.repeated > ALIAS_BUDGET or built.repeated_text > ALIAS_TEXT_BUDGET:
            raise AliasBomb(alias_line)
    built.nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.lines = {}
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = _text(loader.construct_object(key_node, deep=True), key_node)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
            result[key] = _construct(value_node, loader, built, alias_line)
            result.lines[str(key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loader, built, alias_line) for item in node.value]
    return _text(loader.construct_object(node, deep=True), node)


def _text(value: Any, node: yaml.Node) -> Any:
    """A scalar as built, refused when it is a string that is no text (an escape like "\\ud800": errors.not_text)."""
    wrong = not_text(value) if isinstance(value, str) else None
    if wrong:
        raise yaml.constructor.ConstructorError(None, None, wrong, node.start_mark)
    return value


def load_yaml(text: str, path: str, first_line: int = 1) -> tuple[Any, list[Problem]]:
    """Parse YAML text; return (data, problems). Lines count from `first_line`."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a control character: the reader checks the whole text first
        line = first_line + text.count("\n", 0, exc.position)
        return None, [Problem(path, line, f"invalid YAML: control character #x{exc.character:04x} is not allowed")]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        return _construct(node, loader, _Built()), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark else 0)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(path, line, f"invalid YAML: {reason}")]
    except AliasBomb as exc:
        return None, [Problem(path, first_line + exc.line, f"invalid YAML: aliases of the anchor on this line "
                              f"(and others) expand to more than {ALIAS_BUDGET:,} values or {ALIAS_TEXT_BUDGET:,} characters: "
                              "an alias bomb?")]
    except RecursionError:
        return None, [Problem(path, first_line, "invalid YAML: nested too deeply")]
    finally:
        loader.dispose()


def line_of(data: Any, key: str, first_line: int = 1) -> int:
    """The line of `key` in a mapping from load_yaml (or of the mapping itself)."""
    if isinstance(data, LineDict):
        return first_line - 1 + data.lines.get(key, data.line)
    return first_line
