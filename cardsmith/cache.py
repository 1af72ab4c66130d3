"""The render cache: card source + renderer configuration + versions -> rendered HTML fields.

Entries are content-addressed (the key is a hash of everything the HTML depends on), so an entry
can never be stale: a change to any input is a different key. Images are the one input read
during rendering; their content-hashed media names are stored with the entry and checked
against the files on every hit. Cards that miss are rendered, in parallel when there are many.

Three tables, one SQLite file under `.cache/cardsmith/` of the project (or $CARDSMITH_CACHE_DIR):
`fields` (one card's HTML), `parsed` (a card file's cards) and `built` (a card file as a build of
one deck uses it: its notes, see pipeline.Note), so that an unchanged file costs one lookup.

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
from .parse import CardFile, SourceCard, parse_bytes, parse_file
from .render import Media, RenderedCard, Renderer
from .workers import render_parallel as _render_parallel

CACHE_ENV = "CARDSMITH_CACHE_DIR"
JOBS_ENV = "CARDSMITH_JOBS"
FORMAT = 3  # 3: JSON entries with digests (2 held pickles)
PARALLEL_MIN = 300  # cards to render before worker processes pay for themselves
CHUNK = 64
QUERY_BATCH = 900   # below SQLite's limit of host parameters
DEPENDENCIES = {"Markdown": markdown, "pymdown-extensions": pymdownx, "Pygments": pygments}
RENDER_CODE = ("render.py", "mathtex.py", "codelines.py")  # the code that turns Markdown into the fields
PARSE_CODE = ("parse.py", "yamlfile.py", "errors.py")  # the code that turns a file into SourceCards
STORE_CODE = ("cachecodec.py",)  # how entries are laid out: another layout is another key, never a "damaged" entry
TABLES = ("fields", "parsed", "built")
# SQLite errors that say the cache cannot be used now (busy, read-only, full, I/O), not that it is damaged.
UNUSABLE = {"SQLITE_PERM", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL",
            "SQLITE_CANTOPEN", "SQLITE_NOMEM", "SQLITE_INTERRUPT"}
DAMAGE = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

Result = tuple[RenderedCard | None, list[Problem]]


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
    """Worker processes for rendering: $CARDSMITH_JOBS, or the cores this process may use."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class RenderCache:
    """Rendered fields by content key, in one SQLite file (opened on first use)."""

    def __init__(self, directory: Path, read_only: bool = False):
        self.directory = directory
        self.read_only = read_only  # `check`: use what is stored, never write (not even SQLite's side files)
        self._conn: sqlite3.Connection | None = None
        self._unusable = False  # after an error that is not damage: not used again in this run
        self._replaced = False
        self._said: set[str] = set()
        self._base = hashlib.sha256(config_digest().encode())

    @property
    def path(self) -> Path:
        return self.directory / f"render-v{FORMAT}.sqlite"

    def key(self, card: SourceCard) -> str:
        """Everything the card's HTML depends on (its folder: images are relative to it).

        NUL separates the parts: no card text (the parser refuses NUL) or path can hold one.
        """
        digest = self._base.copy()
        digest.update("\0".join((card.note_type, str(card.path.parent), card.question, card.answer)).encode())
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

    def get_many(self, keys: list[str]) -> dict[str, tuple[tuple[str, str], tuple[Media, ...]]]:
        """The stored fields and media of those keys that are present (and intact)."""
        return self._select("fields", keys, cachecodec.decode_fields)

    def put_many(self, entries: dict[str, RenderedCard]) -> None:
        """Store rendered cards under their keys."""
        self._store("fields", ((key, f"{r.source.path}\0{r.card_id}", cachecodec.encode_fields(r.fields, r.media))
                               for key, r in entries.items()))

    def load_files(self, files: list[tuple[Path, str]], renderer: Renderer,
                   deck: DeckConfig | None = None, note: Callable[..., Any] | None = None) -> list[Loaded]:
        """Parse card files, reusing the result for any file whose bytes (and path) were seen before.

        With a `deck` (a build), a file whose bytes were built before for that deck (its id, which
        makes the GUIDs, and its name and subdeck mode, which place the cards) also comes back
        built (`Loaded.built`, of `note`s), unless one of its images changed.
        Files go in batches, so that only one batch's bytes and stored results are in memory at once.
        """
        parse_base = hashlib.sha256(f"{FORMAT}\0{sys.version}".encode())
        _add_code(parse_base, PARSE_CODE + STORE_CODE)
        built_base = self._base.copy()
        if deck:
            built_base.update(f"{deck.deck_id}\0{deck.name}\0{deck.subdecks}\0{genanki.__version__}\0".encode())
        _add_code(built_base, ("pipeline.py", "cache.py"))  # the GUIDs, subdecks and layout of a built file's notes
        decode_built = cachecodec.built_decoder(note) if deck and note else None
        results: list[Loaded] = []
        for start in range(0, len(files), QUERY_BATCH):
            batch = files[start:start + QUERY_BATCH]
            contents, keys, slots = [], [], []
            for path, shown in batch:
                slots.append(f"{path}\0{shown}")
                try:
                    raw = path.read_bytes()
                except OSError:
                    raw = None
                digest = parse_base.copy()
                digest.update(f"{path}\0{shown}\0".encode())
                contents.append(raw)
                keys.append(digest.hexdigest() + hashlib.sha256(raw).hexdigest() if raw is not None else "")
            built_keys = [_derive(built_base, key) if key and decode_built else "" for key in keys]
            built = self._select("built", [k for k in built_keys if k], decode_built) if decode_built else {}
            parsed_keys = {k: path for (path, _), k, b in zip(batch, keys, built_keys) if k and b not in built}
            stored = self._select("parsed", list(parsed_keys),
                                  lambda key, value: cachecodec.decode_parsed(value, parsed_keys[key]))
            fresh = []
            for (path, shown), key, built_key, slot, raw in zip(batch, keys, built_keys, slots, contents):
                built_slot = f"{slot}\0{deck.deck_id if deck else ''}"
                notes = built.pop(built_key, None)
                if notes is not None and _media_unchanged([m for n in notes for m in n.media], renderer):
                    results.append(Loaded(CardFile(path), built_key, built_slot, notes))
                    continue
                if key in stored:
                    results.append(Loaded(stored.pop(key), built_key, built_slot))
                    continue
                parsed = parse_file(path, shown) if raw is None else parse_bytes(raw, path, shown)
                results.append(Loaded(parsed, built_key, built_slot))
                if key:
                    fresh.append((key, slot, cachecodec.encode_parsed(parsed)))
            self._store("parsed", fresh)
        return results

    def store_built(self, entries: Iterable[tuple[Loaded, list]]) -> None:
        """Keep built files (a file's notes, see load_files) under their keys, encoding one at a time."""
        self._store("built", ((loaded.key, loaded.slot, cachecodec.encode_built(notes))
                              for loaded, notes in entries if loaded.key))

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


@dataclass
class Loaded:
    """A card file from load_files: parsed, or built (its notes, without the parse) when the cache had it."""

    parsed: CardFile
    key: str = ""  # where store_built keeps this file built ("" when it cannot be kept)
    slot: str = ""  # the file in its deck: a newer built entry replaces the older one
    built: list | None = None  # of pipeline.Note


def _derive(base: Any, key: str) -> str:
    digest = base.copy()
    digest.update(key.encode())
    return digest.hexdigest()


def _media_unchanged(media: Iterable[Media], renderer: Renderer) -> bool:
    """Whether every image still exists with the content its hashed name was made from."""
    return all(m.source.is_file() and renderer.media_name(m.source) == m.name for m in media)


def _from_entry(card: SourceCard, entry: tuple[tuple[str, str], tuple[Media, ...]], renderer: Renderer
                ) -> RenderedCard | None:
    """The cached card, or None if one of its images changed or vanished."""
    fields, media = entry
    if not _media_unchanged(media, renderer):
        return None
    return RenderedCard(card, fields, media)


def file_progress(progress: Callable[[int], None] | None, ends: list[int]) -> Callable[[int], None] | None:
    """Turn "the first N cards are done" into `progress(1)` per file; `ends[i]`: cards up to file i."""
    if progress is None:
        return None
    reported = [0]

    def update(finished: int) -> None:
        while reported[0] < len(ends) and ends[reported[0]] <= finished:
            reported[0] += 1
            progress(1)
    return update


def render_cards(renderer: Renderer, cards: list[SourceCard], cache: RenderCache | None = None,
                 done: Callable[[int], None] | None = None) -> list[Result]:
    """Render cards in order, taking what the cache holds and storing the rest; `done(n)`: first n finished."""
    results: list[Result | None] = [None] * len(cards)
    keys = [cache.key(card) for card in cards] if cache else []
    stored = cache.get_many(keys) if cache else {}
    missing = []
    for index, card in enumerate(cards):
        entry = stored.get(keys[index]) if cache else None
        rendered = _from_entry(card, entry, renderer) if entry else None
        if rendered:
            results[index] = (rendered, [])
        else:
            missing.append(index)
    todo = [cards[i] for i in missing]
    workers = min(jobs(), len(todo) // CHUNK + 1)
    if len(todo) >= PARALLEL_MIN and workers > 1 and hasattr(os, "fork"):
        fresh: Iterable[Result] = _render_parallel(renderer, todo, workers, CHUNK)
    else:
        fresh = (renderer.render(card) for card in todo)
    ends = missing[1:] + [len(cards)]
    if done:
        done(missing[0] if missing else len(cards))
    for number, result in enumerate(fresh):
        results[missing[number]] = result
        if done:
            done(ends[number])
    if cache:
        cache.put_many({keys[i]: r for i in missing if (r := results[i][0]) is not None})  # type: ignore[index]
    return [r for r in results if r is not None]
