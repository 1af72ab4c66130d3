"""A package's media for `import`: every file unpacked into the deck's media folder (LaTeX images and template
fonts too: no field names them), and the files notes use that the package lacks, said per note and file."""

from __future__ import annotations

import html
import unicodedata
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Iterator

from ..anki.apkg import MEDIA_TOTAL_LIMIT, AnkiNote, AnkiPackage, plain_file_name
from ..errors import NO_LINE, Problem
from ..render import EXTERNAL_RE, MEDIA_TAG_RE, SOUND_RE, media_source
from .importnotes import note_problem
from .stage import Stage

MAX_NOTES_PER_FILE = 10  # a missing file: the notes named, then how many more


def unpack_media(data: AnkiPackage, folder: Path, stage: Stage, warnings: list[Problem]) -> set[str]:
    """Every media file of the package into the staged `folder`, within the size limits; return their names."""
    budget, names, folded = MEDIA_TOTAL_LIMIT, set(), {}
    for name in sorted(data.media):
        if not plain_file_name(name):
            warnings.append(Problem(data.shown, NO_LINE, f"media file {name!r} left out: not a plain file name "
                                    "(Anki's media folder is flat)", "warning"))
            continue
        first = folded.setdefault(unicodedata.normalize("NFC", name).casefold(), name)
        if first != name:
            warnings.append(Problem(data.shown, NO_LINE, f"media files {first!r} and {name!r} differ only in letter "
                                    "case or Unicode form: a file system that ignores them (Windows, macOS) keeps "
                                    "one file for both, and Anki's Check Media renames one of them",
                                    "warning"))
        with stage.path(folder / name).open("wb") as staged:
            budget -= data.extract_media(name, staged, budget)
        names.add(name)
    return names


def references(value: str) -> Iterator[str]:
    """The media names a field uses as a build finds them: images' sources and [sound:] files (not external)."""
    for tag in MEDIA_TAG_RE.finditer(value):
        found = media_source(tag.group(0))
        source = html.unescape(found[1]) if found else ""
        if source and not EXTERNAL_RE.match(source):
            yield urllib.parse.unquote(source)
    for match in SOUND_RE.finditer(value):
        source = html.unescape(match.group(1))
        if not EXTERNAL_RE.match(source):
            yield urllib.parse.unquote(source)


class MissingMedia:
    """The files a deck's notes use that the package lacks (the deck file lists them: its build says so and goes
    on), said one line per note and file, with a count, for the first MAX_NOTES_PER_FILE notes of each file."""

    def __init__(self, notes: list[AnkiNote], media: set[str]):
        self.lacking: dict[str, list[tuple[str, int]]] = {}  # GUID -> (name, times used)
        for note in notes:
            found = [(name, count) for name, count in Counter(r for value in note.fields for r in references(value))
                     .items() if name not in media]
            if found:
                self.lacking[note.guid] = sorted(found)
        self.said: Counter = Counter()

    @property
    def names(self) -> list[str]:
        return sorted({name for found in self.lacking.values() for name, _ in found})

    def lines(self, note: AnkiNote, package: str, where: tuple[str, int] | None) -> list[Problem]:
        """One line per file the note uses and the package lacks (`where`: its card)."""
        lines = []
        for name, count in self.lacking.get(note.guid, ()):
            self.said[name] += 1
            if self.said[name] <= MAX_NOTES_PER_FILE:
                times = f" ({count} times)" if count > 1 else ""
                lines.append(note_problem(package, note, f"uses the media file '{name}'{times}, which the package "
                                          "lacks", where))
        return lines

    def summary(self, package: str) -> list[Problem]:
        """How many more notes use each missing file than were named."""
        uses = Counter(name for found in self.lacking.values() for name, _ in found)
        return [Problem(package, NO_LINE, f"... and {count - MAX_NOTES_PER_FILE} more notes use the media file "
                        f"'{name}', which the package lacks", "warning")
                for name, count in sorted(uses.items()) if count > MAX_NOTES_PER_FILE]
