"""What the render cache keeps, as JSON (a format that cannot run code), and the checks on reading it.

Every entry is stored with a digest of its table, its key and its bytes: an entry whose bytes
changed, or that was copied under another key, does not match its digest and is a miss. An entry
that matches but does not have the exact shape and types this version writes is a miss too, so
nothing read from the cache can make a build fail or differ from a build without it.
"""

from __future__ import annotations

import json
from hashlib import sha256
from array import array
import typing
from dataclasses import fields
from functools import partial
from itertools import accumulate, chain, repeat
from operator import is_not
from pathlib import Path
from typing import Any, Callable

from .errors import Problem
from .model import Media, Note, Section, SourceNote
from .parse import ParsedFile

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
loads = json.JSONDecoder().decode


class Damaged(ValueError):
    """An entry that is not what this version of cardsmith wrote."""


def digest(table: str, key: str, value: bytes) -> bytes:
    """What binds an entry to its table, its key and its content."""
    return sha256(b"\0".join((table.encode(), key.encode(), value))).digest()


def decode(table: str, key: str, value: Any, stored_digest: Any, decoder: Callable[[str, bytes], Any]) -> Any:
    """`decoder(key, value)`, checked; raise Damaged if it is not exactly what was stored under this key."""
    if type(value) is not bytes or type(stored_digest) is not bytes or digest(table, key, value) != stored_digest:
        raise Damaged(key)
    try:
        return decoder(key, value)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, RecursionError) as error:
        raise Damaged(key) from error


def _strings(values: Any) -> None:
    """Raise TypeError unless `values` is a list of str (str.join checks it at C speed)."""
    if type(values) is not list:
        raise TypeError("not a list")
    "".join(values)


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an int")
    return value


# One note's fields: "<length of each field but the last, by commas>[ <media as JSON>]", a newline, then
# the fields as they are (as for built files: slicing the text is quicker than decoding HTML as JSON strings).

def encode_fields(fields_: tuple[str, ...], media: tuple[Media, ...]) -> bytes:
    lengths = ",".join(str(len(text)) for text in fields_[:-1])
    head = f"{lengths} {_JSON.encode([[m.name, str(m.source)] + ([m.digest] if m.digest else []) for m in media])}" \
        if media else lengths
    return f"{head}\n{''.join(fields_)}".encode()


def decode_fields(key: str, value: bytes) -> tuple[tuple[str, ...], tuple[Media, ...]]:
    text = value.decode()
    at = text.index("\n")
    lengths, _, media = text[:at].partition(" ")
    ends = list(accumulate(map(int, lengths.split(",")) if lengths else (), initial=at + 1))
    if any(b < a for a, b in zip(ends, ends[1:])) or ends[-1] > len(text):
        raise ValueError("lengths out of range")
    bounds = ends + [len(text)]
    return tuple(text[a:b] for a, b in zip(bounds, bounds[1:])), _media(loads(media)) if media else ()


def _media(rows: Any) -> tuple[Media, ...]:
    if type(rows) is not list:
        raise TypeError("not a list")
    for row in rows:
        _strings(row)
        if len(row) not in (2, 3):
            raise ValueError("media: [name, source, digest if kept under its own name]")
    return tuple(Media(row[0], Path(row[1]), *row[2:]) for row in rows)


# A parsed card file: its SourceNotes and Problems, as columns (one list per dataclass field) ---------

def _column_decoder(hint: Any) -> Callable[[Any], list]:
    """Check and convert one field's column; each check runs at C speed (a card file can hold thousands)."""
    if hint is str:
        return lambda column: (_strings(column), column)[1]
    if hint is int:
        return lambda column: (array("q", column), column)[1]  # array() takes whole numbers only
    if hint is Path:
        return lambda column: (_strings(column), list(map(_path, column)))[1]
    if hint == (str | None):
        return lambda column: ("".join(filter(partial(is_not, None), column)), column)[1]
    if hint == tuple[str, ...]:
        return lambda column: (set(map(type, column)) <= {list} and "".join(chain.from_iterable(column)),
                               list(map(tuple, column)))[1] if type(column) is list else _wrong(hint)
    if hint == tuple[Section, ...]:
        return _sections
    raise TypeError(f"the render cache cannot keep a field of type {hint}: teach cachecodec._column_decoder it")


def _sections(column: Any) -> list[tuple[Section, ...]]:
    """A column of notes' sections, each note's a list of [name or null, text, line]."""
    if type(column) is not list:
        raise TypeError("not a list")
    notes = []
    for rows in column:
        if type(rows) is not list:
            raise TypeError("not a list")
        sections = []
        for name, text, line in rows:
            if (name is not None and type(name) is not str) or type(text) is not str or type(line) is not int:
                raise TypeError("not a section")
            sections.append(Section(name, text, line))
        notes.append(tuple(sections))
    return notes


_PATHS: dict[str, Path] = {}  # the cards of a file share its path: one Path object, made once


def _path(value: str) -> Path:
    found = _PATHS.get(value)
    if found is None:
        if len(_PATHS) > 4096:
            _PATHS.clear()
        found = _PATHS[value] = Path(value)
    return found


def _wrong(hint: Any) -> Any:
    raise TypeError(f"not a {hint}")


def _codec(cls: type) -> tuple[Callable[[list], dict], Callable[[Any], list]]:
    """(encode, decode) of a list of a dataclass whose fields are str, int, Path, str | None or tuple[str, ...]."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    decoders = [_column_decoder(hints[name]) for name in names]
    new = object.__new__

    def encode(items: list) -> dict:
        columns = {name: [getattr(item, name) for item in items] for name in names}
        for name in names:
            if hints[name] is Path:
                columns[name] = list(map(str, columns[name]))
        return columns

    def make(*values: Any) -> Any:
        item = new(cls)  # as pickle does: the fields are checked already, and a frozen __init__ is slow
        item.__dict__.update(zip(names, values))
        return item

    def decode(columns: Any) -> list:
        if type(columns) is not dict or columns.keys() != set(names):
            raise ValueError(f"not {cls.__name__} columns")
        converted = [convert(columns[name]) for name, convert in zip(names, decoders)]
        if len({len(column) for column in converted}) > 1:
            raise ValueError("columns of different lengths")
        return list(map(make, *converted))
    return encode, decode


_NOTES = _codec(SourceNote)
_PROBLEMS = _codec(Problem)


def encode_parsed(parsed: ParsedFile) -> bytes:
    return _JSON.encode([_NOTES[0](list(parsed.notes)), _PROBLEMS[0](list(parsed.problems))]).encode()


def decode_parsed(value: bytes, path: Path) -> ParsedFile:
    """A card file's parse (`path`: the file its key was made from)."""
    notes, problems = json.loads(value)
    return ParsedFile(path, tuple(_NOTES[1](notes)), tuple(_PROBLEMS[1](problems)))


# A built card file: its notes (model.Note) and the warnings found in it --------------------------------
# A line of JSON with the notes' columns (the fields as their lengths), then the fields' text, as is:
# slicing the text is faster than decoding it as JSON strings, and nothing in it is interpreted.

def encode_built(notes: list[Note], problems: list[Problem]) -> bytes:
    texts = [text for n in notes for text in n.fields]
    head = _JSON.encode({
        "card_id": [n.card_id for n in notes], "guid": [n.guid for n in notes], "hash": [n.content_hash for n in notes],
        "type": _shared([n.note_type for n in notes]), "subdeck": _shared([n.subdeck for n in notes]),
        "shown": _shared([n.shown_path for n in notes]), "tags": _shared([" ".join(n.tags) for n in notes]),
        "cards": _shared([" ".join(map(str, n.cards)) for n in notes]), "line": [n.id_line for n in notes],
        "fields": [len(n.fields) for n in notes], "field_lines": [line for n in notes for line in n.field_lines],
        "lengths": [len(text) for text in texts],
        "media": [[index, m.name, str(m.source)] + ([m.digest] if m.digest else [])
                  for index, n in enumerate(notes) for m in n.media],
        "problems": _PROBLEMS[0](problems)})
    return (head + "\n" + "".join(texts)).encode()


def _shared(column: list[str]) -> list:
    """A column of few distinct values as [values, each row's index]: decoded, the rows share one object."""
    values: dict[str, int] = {}
    indexes = [values.setdefault(value, len(values)) for value in column]
    return [list(values), indexes]


def _unshared(pair: Any, count: int) -> list:
    """The column of a _shared pair (checked: `count` rows, every index in range)."""
    values, indexes = pair
    if type(values) is not list or len(indexes) != count:
        raise ValueError("not a shared column")
    array("q", indexes)
    if indexes and (min(indexes) < 0 or max(indexes) >= len(values)):
        raise ValueError("index out of range")
    return list(map(values.__getitem__, indexes))


def decode_built(key: str, value: bytes) -> tuple[list[Note], list[Problem]]:
    """A built file's notes and warnings, every column checked."""
    text = value.decode()
    at = text.index("\n")
    head = json.loads(text[:at])
    count = len(head["card_id"])
    columns = [head["card_id"], head["guid"], _unshared(head["type"], count), head["hash"],
               _unshared(head["subdeck"], count), _unshared(head["shown"], count)]
    for column in columns:
        _strings(column)
        if len(column) != count:
            raise ValueError("columns of different lengths")
    tags = _split_shared(head["tags"], count, str)
    cards = _split_shared(head["cards"], count, int)
    lines, counts, field_lines, lengths = head["line"], head["fields"], head["field_lines"], head["lengths"]
    array("q", lines + counts + field_lines + lengths)  # raises TypeError unless all are whole numbers (at C speed)
    ends = list(accumulate(lengths, initial=at + 1))
    if len(lines) != count or len(counts) != count or min(counts, default=1) < 1 or sum(counts) != len(lengths) \
            or len(field_lines) != len(lengths) or ends[-1] != len(text) or min(lengths, default=0) < 0:
        raise ValueError("lengths do not match")
    texts = list(map(text.__getitem__, map(slice, ends, ends[1:])))
    starts = list(accumulate(counts, initial=0))
    fields = [tuple(texts[a:b]) for a, b in zip(starts, starts[1:])]
    per_note_lines = [tuple(field_lines[a:b]) for a, b in zip(starts, starts[1:])]
    media: list[tuple[Media, ...]] = [()] * count
    if type(head["media"]) is not list:
        raise TypeError("not a list")
    for index, *row in head["media"]:
        if not 0 <= _int(index) < count:
            raise ValueError("media of no note")
        media[index] += _media([row])
    card_ids, guids, types, hashes, subdecks, shown = columns
    # tuple.__new__ makes each note without a call into Python (Note._make, as map(Note, ...) would)
    notes = list(map(tuple.__new__, repeat(Note), zip(
        card_ids, guids, types, fields, tags, subdecks, media, cards, hashes, shown, lines, per_note_lines)))
    return notes, _PROBLEMS[1](head["problems"])


def _split_shared(pair: Any, count: int, kind: type) -> list[tuple]:
    """A _shared column of space-separated values (tags, card ordinals) as tuples, one per distinct value."""
    values, indexes = pair
    _strings(values)
    tuples = [tuple(map(kind, filter(None, joined.split(" ")))) for joined in values]  # a tag may hold a no-break space
    return _unshared([tuples, indexes], count)
