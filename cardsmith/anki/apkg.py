"""Reading an Anki package (.apkg) that may be damaged or hostile: every size is checked before it is unpacked.

A package is a zip holding a SQLite collection, a media map and numbered media files. A legacy package
(`collection.anki21` or `collection.anki2`) has a JSON media map and its members stored as they are; the
newer one (`collection.anki21b`, Anki 2.1.50 and later) compresses the collection, the media map (a
protobuf MediaEntries message) and each media file with zstd. Nothing is unpacked before its size is
known to be within the limits: the zip header says a member's size (zipfile never returns more), a zstd
frame header says its content size when the writer knew it, and everything is streamed with a limit
anyway, so a bomb is refused after at most the limit is written. packagedb.py reads the collection.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
import zlib
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import zstandard

from ..errors import LINE_BREAK_RE
from ..files import open_regular, utf8_name
from .packagedb import AnkiCollection, AnkiNote, AnkiNoteType, _Message, error, read_collection

LEGACY_NAMES = ("collection.anki21", "collection.anki2")
MODERN_NAME = "collection.anki21b"
NEWEST_VERSION = 3  # PackageMetadata.Version.VERSION_LATEST: the `meta` member of a newer package
COLLECTION_LIMIT = 2 << 30  # bytes once unpacked
MEDIA_MAP_LIMIT = 64 << 20
MEDIA_FILE_LIMIT = 100 << 20
MEDIA_TOTAL_LIMIT = 2 << 30  # all the media of a package, together
ZSTD_HEADER_MAX = 18  # the longest zstd frame header: magic, descriptor, window, dictionary id, content size
ZSTD_WINDOW_LIMIT = 1 << 27  # zstd's own default: a frame asking for a larger window is refused, not allocated
MAX_NAME_BYTES = 255  # a file name on common file systems
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError,
              zstandard.ZstdError)

__all__ = ["AnkiNote", "AnkiNoteType", "AnkiPackage", "open_package", "plain_file_name"]


@dataclass
class AnkiPackage:
    """What an .apkg holds; open it with `open_package` (media are read from it on demand)."""

    shown: str
    collection: AnkiCollection
    archive: zipfile.ZipFile
    media: dict[str, str]  # file name -> zip member
    compressed: bool  # the newer format: members are zstd-compressed
    sizes: dict[str, int]  # file name -> its size as the media map says (the newer format)

    @property
    def notes(self) -> list[AnkiNote]:
        return self.collection.notes

    @property
    def notetypes(self) -> dict[int, AnkiNoteType]:
        return self.collection.notetypes

    def extract_media(self, name: str, dest: IO[bytes], budget: int) -> int:
        """Copy one media file into `dest` within its limit and the `budget` left; return its size."""
        limit = min(MEDIA_FILE_LIMIT, budget)
        what = (f"media file '{name}' is larger than {_mb(limit)} once unpacked" if limit == MEDIA_FILE_LIMIT
                else f"the package's media are larger than {_mb(MEDIA_TOTAL_LIMIT)} together")
        if self.sizes.get(name, 0) > limit:
            raise error(self.shown, what)
        return _copy_member(self.archive, self.media[name], dest, limit, self.shown, what, self.compressed)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):g} MB"


def plain_file_name(name: str) -> bool:
    """A name that is one file in one folder: no path, no `..`, no control character, Unicode, not too long."""
    return (name not in ("", ".", "..") and "/" not in name and "\\" not in name and not LINE_BREAK_RE.search(name)
            and "\x09" not in name and utf8_name(name) and len(name.encode()) <= MAX_NAME_BYTES)


def _copy_member(archive: zipfile.ZipFile, member: str, dest: IO[bytes], limit: int, shown: str, what: str,
                 compressed: bool) -> int:
    """Stream a zip member (zstd-decompressed when `compressed`) into `dest`, refusing it as soon as it is known
    to pass `limit` bytes: from its header, else while it is written."""
    size = 0
    try:
        info = archive.getinfo(member)
        if not compressed and info.file_size > limit:
            raise error(shown, what)
        with archive.open(info) as raw:
            if compressed:
                header = zstandard.get_frame_parameters(raw.read(ZSTD_HEADER_MAX))
                if header.content_size not in (zstandard.CONTENTSIZE_UNKNOWN, zstandard.CONTENTSIZE_ERROR) \
                        and header.content_size > limit:
                    raise error(shown, what)
        with archive.open(info) as raw:
            source: IO[bytes] = (zstandard.ZstdDecompressor(max_window_size=ZSTD_WINDOW_LIMIT).stream_reader(
                raw, read_across_frames=True) if compressed else raw)  # type: ignore[assignment]
            with source:
                while chunk := source.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise error(shown, what)
                    dest.write(chunk)
    except (KeyError, *ZIP_ERRORS) as exc:
        raise error(shown, f"damaged package: {member}: {exc}")
    return size


@contextmanager
def open_package(path: Path) -> Iterator[AnkiPackage]:
    """Open and check an .apkg of either format; its collection is unpacked into a temporary folder."""
    shown = str(path)
    with tempfile.TemporaryDirectory(prefix="cardsmith-import-") as workdir, ExitStack() as opened:
        try:
            archive = zipfile.ZipFile(opened.enter_context(open_regular(path)))  # not a FIFO, not /dev/zero
        except (OSError, *ZIP_ERRORS) as exc:
            raise error(shown, f"not an Anki package: {getattr(exc, 'strerror', None) or exc}")
        with archive:
            names = set(archive.namelist())
            compressed = MODERN_NAME in names
            member = MODERN_NAME if compressed else next((n for n in LEGACY_NAMES if n in names), None)
            if member is None:
                raise error(shown, "not an Anki package: no collection inside")
            if compressed:
                _check_version(archive, names, shown)
            db_path = Path(workdir) / "collection.sqlite"
            with db_path.open("wb") as out:
                _copy_member(archive, member, out, COLLECTION_LIMIT, shown,
                             f"the collection is larger than {_mb(COLLECTION_LIMIT)} once unpacked", compressed)
            media, sizes = _media_map(archive, names, shown, compressed)
            yield AnkiPackage(shown, read_collection(db_path, shown), archive, media, compressed, sizes)


def _check_version(archive: zipfile.ZipFile, names: set[str], shown: str) -> None:
    """A package newer than the newer format (its `meta` says so) is refused: its members may mean other things."""
    if "meta" not in names:
        return
    with tempfile.SpooledTemporaryFile() as buffer:
        _copy_member(archive, "meta", buffer, 1 << 10, shown, "the package's `meta` is too large", False)
        buffer.seek(0)
        version = _Message(buffer.read(), "the package's `meta`", shown).number(1)
    if version > NEWEST_VERSION:
        raise error(shown, f"this package is in a format newer than cardsmith reads (version {version}); "
                           "export it again with 'Support older Anki versions' ticked")


def _media_map(archive: zipfile.ZipFile, names: set[str], shown: str,
               compressed: bool) -> tuple[dict[str, str], dict[str, int]]:
    """The `media` member -> ({file name: member}, {file name: declared size}), for members that exist.

    Legacy: JSON {"0": "file name", …}. Newer: a zstd-compressed MediaEntries message, whose entries are
    the members "0", "1", … in order (or the member its legacy_zip_filename names).
    """
    if "media" not in names:
        return {}, {}
    with tempfile.SpooledTemporaryFile() as buffer:
        _copy_member(archive, "media", buffer, MEDIA_MAP_LIMIT, shown,
                     f"the media map is larger than {_mb(MEDIA_MAP_LIMIT)} once unpacked", compressed)
        buffer.seek(0)
        data = buffer.read()
    if compressed:
        entries = _Message(data, "the media map", shown).fields.get(1, [])
        found, sizes = {}, {}
        for index, raw in enumerate(entries):
            entry = _Message(raw if isinstance(raw, bytes) else None, "the media map", shown)
            name, member = entry.text(1) or "", str(entry.number(255) if 255 in entry.fields else index)
            if member in names:
                found[name], sizes[name] = member, entry.number(2)
        return found, sizes
    try:
        mapping = json.loads(data or b"{}")
    except (ValueError, RecursionError):
        raise error(shown, "the media map is not valid JSON")
    if not isinstance(mapping, dict):
        raise error(shown, "the media map is not a JSON object")
    if not all(isinstance(value, str) for value in mapping.values()):
        raise error(shown, "the media map is not a JSON object of file names")
    return {name: member for member, name in mapping.items() if member in names}, {}
