"""The card model: what each stage hands the next, immutable.

    parse    -> SourceNote    a card as written: id, tags, type key, and its text in Sections
    resolve  -> ResolvedNote  its fields by name (the note type's order), GUID and full deck name
    render   -> Rendered      each field's HTML and the media it uses
    (cards)  -> Note          what every command consumes: HTML fields, GUID, deck, cards Anki makes
    prepare  -> DeckBuild     a deck's notes in order, its files and every problem found

Notes are tuples (NamedTuple): a large deck has a hundred thousand of them, and a tuple is made and
read back from the cache several times faster than an object.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .config import DeckConfig
from .errors import Problem


class Section(NamedTuple):
    """A part of a card as parse splits it, before its note type is known.

    The first is the heading (with the lines of a long question), the second what follows the id
    comment (or the `---` of a long question); each later one starts at a top-level `### Name` line
    (`name` is Name, `text` begins with that line: resolve puts it back where Name is no field).
    """

    name: str | None
    text: str  # as written (not stripped), lines joined with "\n"
    line: int  # of its first line


@dataclass(frozen=True)
class SourceNote:
    """One card as written in a Markdown file."""

    card_id: str
    path: Path            # the card file
    shown_path: str       # the path as printed in messages
    line: int             # line of the `## ` heading
    id_line: int          # line of the id comment
    note_type: str        # the `type:` of its id comment or file (a folder in templates/)
    tags: tuple[str, ...]
    subdeck: str | None   # its file's front matter `subdeck:`
    guid: str | None      # an explicit Anki GUID (for decks imported from Anki)
    sections: tuple[Section, ...]
    distinct: tuple[str, ...] = ()  # card ids its question is not a near-duplicate of (check says nothing)


class FieldText(NamedTuple):
    """One field of a note as written, and where it starts (0: not written).

    `format`: "markdown", "html" (its text is its HTML, as a field of format html is written) or "raw" (HTML
    written in raw form, parse.raw_html: byte for byte, and not linted by check).
    """

    name: str
    text: str
    line: int
    format: str = "markdown"
    gap: int = 0  # lines after the first that the text leaves out: a question's id comment, below its heading

    def line_of(self, lines: int) -> int:
        """The file line of the text's line `lines` (0: the first)."""
        return self.line + lines + (self.gap if lines else 0)


class DeckMedia(NamedTuple):
    """A deck's media folder (deck file `media:`): files Anki knows by their own names, and the names its cards
    use that no file has (`missing_media:`, from a package that lacked them: warned about, not refused)."""

    folder: Path | None
    missing: frozenset[str] = frozenset()


class ResolvedNote(NamedTuple):
    """A card with its note type's fields filled by name, its identity and its place: what render needs.

    Its source's sections are in its fields and not kept (a large deck's Markdown would be in memory twice).
    """

    card_id: str
    note_type: str
    tags: tuple[str, ...]
    path: Path            # the card file (its images and sounds are relative to its folder)
    shown_path: str
    line: int             # of the card's heading
    id_line: int
    guid: str
    fields: tuple[FieldText, ...]
    subdeck: str          # the full deck name
    deck_media: DeckMedia | None = None  # where its images and sounds are also looked for, by their own names


@dataclass(frozen=True)
class Media:
    """A local file packaged into the deck: under a content-hashed name, or (in a deck's media folder) its own
    name, with its content's `digest` (its name does not change with it: the notes using it must)."""

    name: str
    source: Path
    digest: str = ""


class Rendered(NamedTuple):
    """A note's fields as HTML, and the media files they use."""

    fields: tuple[str, ...]
    media: tuple[Media, ...]


class Note(NamedTuple):
    """A note as every command uses it: rendered, identified, placed, with the cards Anki makes of it."""

    card_id: str
    guid: str
    note_type: str
    fields: tuple[str, ...]  # HTML, one per field of its note type, in the note type's order
    tags: tuple[str, ...]
    subdeck: str  # the full deck name
    media: tuple[Media, ...]
    cards: tuple[int, ...]  # the template ordinals of its cards (cardgen)
    content_hash: str
    shown_path: str  # where the card is written, for messages
    id_line: int
    field_lines: tuple[int, ...]  # where each field starts in the card file (0: not written)

    @property
    def line(self) -> int:
        """The line of the card's heading."""
        return self.field_lines[0]


class Identity(NamedTuple):
    """Who a card is in Anki (its GUID) and where it is written: what the checks between decks need of it."""

    card_id: str
    guid: str
    shown_path: str
    id_line: int


@dataclass(frozen=True)
class DeckBuild:
    """One deck, prepared: its notes in order, its card files, and every problem (errors and warnings) found."""

    config: DeckConfig
    notes: tuple[Note, ...]
    files: tuple[Path, ...]
    problems: tuple[Problem, ...]
    seconds: float = 0.0  # time spent preparing it
    folder_media: tuple[Media, ...] = ()  # every file of the deck's media folder, used by a note or not

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def media(self) -> dict[str, Path]:
        """Every media file the package holds, by its name in it: those the notes use and the media folder's
        (LaTeX images Anki made, fonts the templates use)."""
        found = {m.name: m.source for m in self.folder_media}
        found.update((m.name, m.source) for note in self.notes for m in note.media)
        return found


def content_hash(note_type: str, fields: tuple[str, ...], tags: tuple[str, ...],
                 media: tuple[Media, ...] = ()) -> str:
    """The hash the lock file keeps per card: it changes exactly when what Anki receives changes (a file kept
    under its own name counts by its content)."""
    kept = sorted((m.name, m.digest) for m in media if m.digest)
    text = json.dumps([note_type, fields, sorted(tags)] + ([kept] if kept else []), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
