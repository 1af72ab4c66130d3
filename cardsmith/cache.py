"""The render cache: a transparent memo of the pipeline's stages, so that a rebuild redoes only what changed.

Three memos, one SQLite file under `.cache/cardsmith/` of the project (or $CARDSMITH_CACHE_DIR):

    parsed  a card file's bytes (and path)                -> parse.parse_bytes's ParsedFile
    fields  a note's fields as written, their formats and
            folder, the renderer's configuration          -> render.Renderer.render's HTML and media
    built   a card file's bytes, its deck, the note types  -> its Notes (pipeline.Project.prepare's, for
            and everything parse, resolve, render read        that file) and their warnings

Each entry is found by a hash of everything its result depends on (inputs, versions, the stages'
code), so it can never be stale; images and sounds, read while rendering, are checked against their
content-hashed names on every hit. The memos only ever return what the stage functions returned: they
decide nothing (no GUID, subdeck or card is made here). Cards that miss are rendered, in parallel when
there are many and a second core is free.

The cache is only ever a shortcut: entries are JSON checked against a digest bound to their key
(cachecodec.py), a damaged or foreign entry is a miss, a damaged file is replaced, and a cache
that cannot be used at all is left alone; each says so once per run (one line on stderr).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import genanki
import markdown
import pygments
import pymdownx

from . import __version__, cachecodec, render
from .cachecodec import Damaged
from .config import DeckConfig
from .errors import Problem
from .files import read_limited
from .model import Media, Note, Rendered, ResolvedNote
from .notetypes import NoteType
from .parse import ParsedFile
from .render import Renderer
from .workers import render_parallel as _render_parallel

CACHE_ENV = "CARDSMITH_CACHE_DIR"
JOBS_ENV = "CARDSMITH_JOBS"
FORMAT = 4  # 4: notes of any note type (3: question and answer)
PARALLEL_MIN = 300  # cards to render before worker processes pay for themselves
CHUNK = 64
QUERY_BATCH = 900   # below SQLite's limit of host parameters
DEPENDENCIES = {"Markdown": markdown, "pymdown-extensions": pymdownx, "Pygments": pygments}
RENDER_CODE = ("render.py", "mathtex.py", "codelines.py")  # the code that turns Markdown into the fields
PARSE_CODE = ("parse.py", "rawform.py", "schema.py", "yamlfile.py", "errors.py", "model.py")  # a file into SourceNotes
# The code that turns a file's SourceNotes into Notes (fields by name, GUIDs, decks, cards).
BUILD_CODE = ("resolve.py", "rawform.py", "cardgen.py", "pipeline.py", "cache.py")
STORE_CODE = ("cachecodec.py",)  # how entries are laid out: another layout is another key, never a "damaged" entry
TABLES = ("fields", "parsed", "built")
# SQLite errors that say the cache cannot be used now (busy, read-only, full, I/O), not that it is damaged.
UNUSABLE = {"SQLITE_PERM", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL",
            "SQLITE_CANTOPEN", "SQLITE_NOMEM", "SQLITE_INTERRUPT"}
DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

Result = tuple[Rendered | None, list[Problem]]


def package_versions() -> dict[str, str]:
    """Versions of everything that shapes the HTML (monkeypatched by the tests).

    As the modules declare them: asking importlib.metadata would cost a rebuild 15 ms more.
    """
    found = {name: module.__version__ for name, module in DEPENDENCIES.items()}
    found["cardsmith"] = __version__
    found["python"] = "%d.%d" % sys.version_info[:2]
    return found


def renderer_config() -> dict:
    """The Markdown engine's configuration, as the renderer uses it."""
    return {"extensions": render.MARKDOWN_EXTENSIONS, "config": render.MARKDOWN_CONFIG}


def config_digest() -> str:
    """Hash of every input shared by all cards: versions, configuration, the rendering code."""
    digest = hashlib.sha256(json.dumps([FORMAT, package_versions(), renderer_config()], sort_keys=True).encode())
    _add_code(digest, RENDER_CODE + STORE_CODE)
    return digest.hexdigest()


def _add_code(digest: Any, names: Iterable[str]) -> None:
    """Feed the bytes of these cardsmith modules to `digest` (a change to the code is a new key)."""
    here = Path(__file__).parent
    for name in names:
        digest.update((here / name).read_bytes())


def default_dir(root: Path) -> Path:
    """$CARDSMITH_CACHE_DIR, or `.cache/cardsmith/` in the project folder."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value) if value else root / ".cache" / "cardsmith"


def jobs() -> int:
    """Worker processes for rendering: $CARDSMITH_JOBS, else as many of the cores this process may use as are
    idle (a worker on a busy core only slows the build: measured on a busy 2-core machine, 2-13%)."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        busy = os.getloadavg()[0]  # processes running or waiting for a core, over the last minute
    except (AttributeError, OSError):  # Windows: no load average
        return cores
    return max(1, min(cores, round(cores - busy)))


class RenderCache:
    """Rendered fields by content key, in one SQLite file (opened on first use)."""

    def __init__(self, directory: Path, read_only: bool = False):
        self.directory = directory
        self.read_only = read_only  # `check`: use what is stored, never write (not even SQLite's side files)
        self._conn: sqlite3.Connection | None = None
        self._unusable = False  # after an error that is not damage: not used again in this run
        self._replaced = False
        self._said: set[str] = set()
        self.config = config_digest()  # what every rendered field depends on besides the note
        self._base = hashlib.sha256(self.config.encode())

    @property
    def path(self) -> Path:
        return self.directory / f"render-v{FORMAT}.sqlite"

    def key(self, note: ResolvedNote) -> str:
        """Everything the note's HTML depends on: its fields as written, their formats, its folder (images and
        sounds are relative to it).

        NUL separates the parts: no card text (the parser refuses NUL) or path can hold one.
        """
        digest = self._base.copy()
        digest.update("\0".join([str(note.path.parent)] + [f"{f.format}\0{f.text}" for f in note.fields]).encode())
        if note.deck_media is not None:  # where its images are also found, and which may be missing
            digest.update("\0".join(["", str(note.deck_media.folder), *sorted(note.deck_media.missing)]).encode())
        return digest.hexdigest()

    def _say(self, kind: str, message: str) -> None:
        """One line on stderr, once per run and kind: the cache is a shortcut, never a reason to stop."""
        if kind not in self._said:
            self._said.add(kind)
            print(f"cardsmith: the render cache {self.path}: {message}", file=sys.stderr)

    def _connect(self) -> sqlite3.Connection | None:
        """The cache database; None when reading only and there is none yet, or when it cannot be used."""
        if self._conn is None and not self._unusable:
            path = self.path
            if self.read_only:
                if not path.is_file():
                    return None
                # immutable: no locks and no -wal/-shm files; entries still in a WAL just miss.
                try:
                    self._conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
                except sqlite3.Error as error:
                    self._damaged(error)
                return self._conn
            self.directory.mkdir(parents=True, exist_ok=True)
            for old in self.directory.glob("render-v*.sqlite*"):  # caches of earlier formats
                # A symbolic link (committed by a repository) would make SQLite write outside the project.
                if not old.name.startswith(path.name) or old.is_symlink():
                    old.unlink(missing_ok=True)
            try:
                self._conn = _open(path)
            except sqlite3.DatabaseError as error:
                self._damaged(error)
        return self._conn

    def _damaged(self, error: sqlite3.Error) -> None:
        """After an SQLite error: replace a damaged file (once per run); otherwise stop using the cache."""
        self.close()
        name = getattr(error, "sqlite_errorname", "")
        if self.read_only:  # `check`: nothing to replace; a cache not written to its file yet is no news
            self._unusable = True
            if name in DAMAGE:
                self._say("unusable", f"is damaged ({error}); checking without it (the next build replaces it)")
            return
        if self._replaced or name in UNUSABLE or not isinstance(error, sqlite3.DatabaseError):
            self._unusable = True
            self._say("unusable", f"cannot be used ({error}); rendering without it")
            return
        self._replaced = True
        self._say("replaced", f"was damaged ({error}); replaced with a new one")
        try:
            for damaged in self.directory.glob(self.path.name + "*"):
                damaged.unlink()
            self._conn = _open(self.path)
        except (OSError, sqlite3.Error) as again:
            self.close()
            self._unusable = True
            self._say("unusable", f"cannot be used ({again}); rendering without it")

    def _select(self, table: str, keys: list[str], decoder: Callable[[str, bytes], Any]) -> dict[str, Any]:
        """The checked, decoded entries of those keys that are stored (queried in batches).

        A damaged or foreign entry is a miss (and said once); a damaged file is replaced.
        """
        found: dict[str, Any] = {}
        for start in range(0, len(keys), QUERY_BATCH):
            batch = keys[start:start + QUERY_BATCH]
            conn = self._connect()
            if conn is None:
                return found
            marks = ",".join("?" * len(batch))
            try:  # row by row: only one stored entry is in memory next to what was decoded
                for key, value, stored in conn.execute(f"SELECT key, value, digest FROM {table} WHERE key IN ({marks})",
                                                       batch):
                    try:
                        found[key] = cachecodec.decode(table, key, value, stored, decoder)
                    except Damaged:
                        self._say("entries", "some entries were damaged or misplaced: ignored, their cards rendered afresh")
            except sqlite3.Error as error:
                self._damaged(error)
        return found

    def _store(self, table: str, rows: Iterable[tuple[str, str, bytes]]) -> None:
        """Insert (key, slot, value) rows with their digests; an iterator is consumed one row at a time (memory)."""
        if self.read_only:
            return
        conn = self._connect()
        if conn is None:
            return
        try:
            with conn:
                conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?)",
                                 ((key, slot, value, cachecodec.digest(table, key, value)) for key, slot, value in rows))
        except sqlite3.Error as error:  # the next run finds a new file, or none: the entries are only lost
            self._damaged(error)

    def get_many(self, keys: list[str]) -> dict[str, tuple[tuple[str, ...], tuple[Media, ...]]]:
        """The stored fields and media of those keys that are present (and intact)."""
        return self._select("fields", keys, cachecodec.decode_fields)

    def put_many(self, entries: dict[str, tuple[ResolvedNote, Rendered]]) -> None:
        """Store rendered notes under their keys."""
        self._store("fields", ((key, f"{note.path}\0{note.card_id}", cachecodec.encode_fields(*rendered))
                               for key, (note, rendered) in entries.items()))

    def load_files(self, files: list[tuple[Path, str]], renderer: Renderer, parse: Callable[..., ParsedFile],
                   built_for: str = "") -> list[Loaded]:
        """Each card file, built (its notes, when `built_for` names what they depend on, see built_key, and the
        cache has them for these bytes, with their media unchanged), else parsed (`parse(raw, path, shown)`,
        its result memoised by the file's bytes and path).

        Files go in batches, so that only one batch's bytes and stored results are in memory at once.
        """
        parse_base = hashlib.sha256(f"{FORMAT}\0{sys.version}".encode())
        _add_code(parse_base, PARSE_CODE + STORE_CODE)
        built_base = hashlib.sha256(built_for.encode()) if built_for else None
        results: list[Loaded] = []
        for start in range(0, len(files), QUERY_BATCH):
            batch = files[start:start + QUERY_BATCH]
            contents: list[bytes | OSError] = []
            keys, slots = [], []
            for path, shown in batch:
                slots.append(f"{path}\0{shown}")
                try:
                    raw: bytes | None = read_limited(path)
                except OSError as error:
                    raw = None
                    contents.append(error)
                digest = parse_base.copy()
                digest.update(f"{path}\0{shown}\0".encode())
                if raw is not None:
                    contents.append(raw)
                keys.append(digest.hexdigest() + hashlib.sha256(raw).hexdigest() if raw is not None else "")
            built_keys = [_derive(built_base, key) if key and built_base else "" for key in keys]
            built = self._select("built", [k for k in built_keys if k], cachecodec.decode_built) if built_base else {}
            parsed_keys = {k: path for (path, _), k, b in zip(batch, keys, built_keys) if k and b not in built}
            stored = self._select("parsed", list(parsed_keys),
                                  lambda key, value: cachecodec.decode_parsed(value, parsed_keys[key]))
            fresh = []
            for (path, shown), key, built_key, slot, raw in zip(batch, keys, built_keys, slots, contents):
                built_slot = f"{slot}\0{built_for[:64]}"
                entry = built.pop(built_key, None)
                if entry is not None and _media_unchanged([m for n in entry[0] for m in n.media], renderer):
                    results.append(Loaded(path, shown, built_key, built_slot, built=entry))
                    continue
                if key in stored:
                    results.append(Loaded(path, shown, built_key, built_slot, parsed=stored.pop(key)))
                    continue
                parsed = parse(raw, path, shown) if isinstance(raw, bytes) else ParsedFile(
                    path, problems=(Problem(shown, 0, f"cannot read file: {raw.strerror}"),))
                results.append(Loaded(path, shown, built_key, built_slot, parsed=parsed))
                if key:
                    fresh.append((key, slot, cachecodec.encode_parsed(parsed)))
            self._store("parsed", fresh)
        return results

    def store_built(self, entries: Iterable[tuple[Loaded, list[Note], list[Problem]]]) -> None:
        """Keep built files (a file's notes and warnings, see load_files) under their keys, encoding one at a time."""
        self._store("built", ((loaded.key, loaded.slot, cachecodec.encode_built(notes, problems))
                              for loaded, notes, problems in entries if loaded.key))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) the cache database with its tables; raise sqlite3.DatabaseError if it is not one."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for table in TABLES:
            # `slot`: what an entry is for (a card of a file, a file, a file in a deck). A new
            # entry replaces the one in its slot, so the cache stays the size of the project
            # however often it is rebuilt. `digest`: see cachecodec.digest.
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} "
                         f"(key TEXT PRIMARY KEY, slot TEXT NOT NULL, value BLOB NOT NULL, digest BLOB NOT NULL)")
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_slot ON {table} (slot)")
            conn.execute(f"CREATE TRIGGER IF NOT EXISTS {table}_one_per_slot BEFORE INSERT ON {table} "
                         f"BEGIN DELETE FROM {table} WHERE slot = NEW.slot AND key != NEW.key; END")
            conn.execute(f"SELECT key, slot, value, digest FROM {table} WHERE key = ''").fetchone()  # its columns
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


@dataclass(frozen=True)
class Loaded:
    """A card file from load_files: built (its notes and warnings, without a parse), or parsed."""

    path: Path
    shown: str
    key: str = ""  # where store_built keeps this file built ("" when it cannot be kept)
    slot: str = ""  # the file in its deck: a newer built entry replaces the older one
    built: tuple[list[Note], list[Problem]] | None = None
    parsed: ParsedFile | None = None


def built_key(deck: DeckConfig, notetypes: dict[str, NoteType], config: str) -> str:
    """Everything a file's notes depend on besides its bytes: its deck (the GUIDs' namespace, the deck names),
    the note types (field names and formats, kinds, fronts: which cards), the renderer (`config`) and the
    code that makes notes."""
    digest = hashlib.sha256(json.dumps([
        config, deck.deck_id, deck.name, deck.subdecks, deck.media, sorted(deck.missing_media), genanki.__version__,
        {key: [nt.kind, [[f.name, f.format] for f in nt.fields], [t.front for t in nt.templates]]
         for key, nt in sorted(notetypes.items())}]).encode())
    _add_code(digest, BUILD_CODE)
    return digest.hexdigest()


def _derive(base: Any, key: str) -> str:
    digest = base.copy()
    digest.update(key.encode())
    return digest.hexdigest()


def _media_unchanged(media: Iterable[Media], renderer: Renderer) -> bool:
    """Whether every media file still exists with the content its hashed name (or kept name's digest) was made from."""
    return all(m.source.is_file() and (renderer.digest(m.source) == m.digest if m.digest
                                       else renderer.media_name(m.source) == m.name) for m in media)


def file_progress(progress: Callable[[int], None] | None, ends: list[int]) -> Callable[[int], None] | None:
    """Turn "the first N notes are done" into `progress(1)` per file; `ends[i]`: notes up to file i."""
    if progress is None:
        return None
    reported = [0]

    def update(finished: int) -> None:
        while reported[0] < len(ends) and ends[reported[0]] <= finished:
            reported[0] += 1
            progress(1)
    return update


def render_notes(renderer: Renderer, notes: list[ResolvedNote], cache: RenderCache | None = None,
                 done: Callable[[int], None] | None = None) -> list[Result]:
    """Render notes in order, taking what the cache holds and storing the rest; `done(n)`: first n finished."""
    results: list[Result | None] = [None] * len(notes)
    keys = [cache.key(note) for note in notes] if cache else []
    stored = cache.get_many(keys) if cache else {}
    missing = []
    for index, note in enumerate(notes):
        entry = stored.get(keys[index]) if cache else None
        if entry and len(entry[0]) == len(note.fields) and _media_unchanged(entry[1], renderer):
            results[index] = (Rendered(*entry), [])
        else:
            missing.append(index)
    todo = [notes[i] for i in missing]
    workers = min(jobs(), len(todo) // CHUNK + 1) if len(todo) >= PARALLEL_MIN else 1
    if workers > 1 and hasattr(os, "fork"):
        fresh: Iterable[Result] = _render_parallel(renderer, todo, workers, CHUNK)
    else:
        fresh = (renderer.render(note) for note in todo)
    ends = missing[1:] + [len(notes)]
    if done:
        done(missing[0] if missing else len(notes))
    for number, result in enumerate(fresh):
        results[missing[number]] = result
        if done:
            done(ends[number])
    if cache:
        # Only what rendered without a word: a warning (a missing file the deck allows) is said again next time.
        cache.put_many({keys[i]: (notes[i], r) for i in missing  # type: ignore[index]
                        if (r := results[i][0]) is not None and not results[i][1]})  # type: ignore[index]
    return [r for r in results if r is not None]
