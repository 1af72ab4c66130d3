"""YAML loading that keeps line numbers, for `path:line:` messages."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem


def read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    """A project file's text, or None with a problem when it is not readable UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(shown, 1, "not valid UTF-8 text"))
    except OSError as exc:
        problems.append(Problem(shown, 1, f"cannot read file: {exc.strerror}"))
    return None


class LineDict(dict):
    """A mapping loaded from YAML that remembers the line of each key."""

    lines: dict[str, int]
    line: int


def _construct(node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = LineDict()
        result.lines = {}
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
            result[key] = _construct(value_node, loader)
            result.lines[str(key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loader) for item in node.value]
    return loader.construct_object(node, deep=True)


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
        return _construct(node, loader), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark else 0)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(path, line, f"invalid YAML: {reason}")]
    except RecursionError:
        return None, [Problem(path, first_line, "invalid YAML: nested too deeply")]
    finally:
        loader.dispose()


def line_of(data: Any, key: str, first_line: int = 1) -> int:
    """The line of `key` in a mapping from load_yaml (or of the mapping itself)."""
    if isinstance(data, LineDict):
        return first_line - 1 + data.lines.get(key, data.line)
    return first_line
