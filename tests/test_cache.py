"""Issue 6: the render cache never serves a stale card; cached, uncached and parallel builds are identical."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import tempfile
import zipfile
from typing import Iterator

import genanki
import markdown
import pytest

from cardsmith import cache, pipeline, render, resolve

PNG_A = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
         b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")
PNG_B = PNG_A + b"\x00"  # different bytes, so a different content-hashed media name

CARDS = r"""
## What is the derivative of $\sigma(x)$?
<!-- id: sigmoid-derivative -->

$\sigma(x)\,(1-\sigma(x))$, see ![plot](img/plot.png).

## What does this code print?
<!-- id: code-question -->

```python
print("hi")
```

---

It prints `hi`.

## Softmax is {{c1::$\frac{e^{z_i}}{\sum_j e^{z_j}}$}}.
<!-- id: softmax-cloze; type: cloze -->
"""


@pytest.fixture
def sample(project):
    """The test project with a few cards and an image; the lock made by a first build."""
    project.write({"cards/test/a.md": CARDS, "cards/test/img/plot.png": PNG_A})
    project.build()
    return project


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The ids of the cards the renderer actually renders (cache misses)."""
    seen: list[str] = []
    original = render.Renderer.render

    def spy(self, card):
        seen.append(card.card_id)
        return original(self, card)

    monkeypatch.setattr(render.Renderer, "render", spy)
    return seen


def cached_and_cold(project) -> tuple[bytes, bytes]:
    """The package built with the cache, then the same build with no cache at all."""
    project.build("--out", str(project.root / "with-cache"))
    project.build("--no-cache", "--out", str(project.root / "cold"))
    return ((project.root / "with-cache" / "test.apkg").read_bytes(),
            (project.root / "cold" / "test.apkg").read_bytes())


@contextlib.contextmanager
def collection(apkg: bytes) -> Iterator[sqlite3.Connection]:
    """The package's collection, opened with SQLite."""
    with tempfile.NamedTemporaryFile(suffix=".anki2") as db:
        db.write(zipfile.ZipFile(io.BytesIO(apkg)).read("collection.anki2"))
        db.flush()
        conn = sqlite3.connect(db.name)
        try:
            yield conn
        finally:
            conn.close()


def collection_text(apkg: bytes) -> str:
    """Every note's fields and the note types' templates, as one string (to look for a change)."""
    with collection(apkg) as conn:
        text = "\n".join(row[0] for row in conn.execute("SELECT flds FROM notes"))
        return text + conn.execute("SELECT models FROM col").fetchone()[0]


def test_warm_cache_renders_nothing_and_matches_cold(sample, renders):
    warm, cold = cached_and_cold(sample)
    assert warm == cold
    assert renders == ["sigmoid-derivative", "code-question", "softmax-cloze"]  # only the --no-cache build
    assert (sample.root / ".cache" / "cardsmith").is_dir()


def test_changed_card_is_rendered_again(sample, renders):
    sample.write({"cards/test/a.md": CARDS.replace("see ![plot]", "changed, see ![plot]")})
    warm, cold = cached_and_cold(sample)
    assert warm == cold
    assert "changed, see" in collection_text(warm)
    assert renders[:1] == ["sigmoid-derivative"] and len(renders) == 4  # one miss, then the cold build


def test_changed_image_is_not_served_stale(sample):
    before = (sample.dist / "test.apkg").read_bytes()
    sample.write({"cards/test/img/plot.png": PNG_B})
    warm, cold = cached_and_cold(sample)
    assert warm == cold != before


def test_changed_template(sample):
    path = sample.root / "templates" / "basic" / "front.html"
    path.write_text(path.read_text(encoding="utf-8") + "\n<div>template marker</div>\n", encoding="utf-8")
    warm, cold = cached_and_cold(sample)
    assert warm == cold
    assert "template marker" in collection_text(warm)


def test_changed_renderer_configuration(sample, monkeypatch):
    monkeypatch.setitem(render.MARKDOWN_CONFIG, "pymdownx.highlight",
                        {**render.MARKDOWN_CONFIG["pymdownx.highlight"], "css_class": "codeblock"})
    warm, cold = cached_and_cold(sample)
    assert warm == cold
    assert 'class="codeblock"' in collection_text(warm)


def test_changed_dependency_version(sample, monkeypatch):
    """A new Markdown release that renders differently: its version in the key forces a re-render."""
    original_convert = markdown.Markdown.convert
    monkeypatch.setattr(markdown.Markdown, "convert", lambda self, text: original_convert(self, text) + "<!--v2-->")
    monkeypatch.setattr(markdown, "__version__", "99.0")
    warm, cold = cached_and_cold(sample)
    assert warm == cold
    assert "<!--v2-->" in collection_text(warm)


def test_versions_in_the_key_are_the_installed_ones():
    """The key takes versions from the modules (cheaper than importlib.metadata): they must agree."""
    from importlib import metadata
    found = cache.package_versions()
    for name in ("Markdown", "pymdown-extensions", "Pygments"):
        assert found[name] == metadata.version(name)
    assert genanki.__version__ == metadata.version("genanki")


def test_parallel_render_matches_serial(sample, monkeypatch):
    cards = CARDS + "".join(f"\n## Question {i}?\n<!-- id: q-{i} -->\n\nAnswer ${i}x$.\n" for i in range(20))
    sample.write({"cards/test/a.md": cards})
    sample.build("--no-cache", "--out", str(sample.root / "serial"))  # too few cards for workers
    monkeypatch.setattr(cache, "PARALLEL_MIN", 2)
    monkeypatch.setattr(cache, "CHUNK", 1)
    monkeypatch.setenv(cache.JOBS_ENV, "2")
    calls = []
    original = cache._render_parallel
    monkeypatch.setattr(cache, "_render_parallel", lambda *a: calls.append(1) or original(*a))
    warm, cold = cached_and_cold(sample)
    assert calls == [1, 1]  # the cached build (20 misses) and the uncached one
    assert warm == cold == (sample.root / "serial" / "test.apkg").read_bytes()


def test_problems_keep_their_order(project):
    project.write({"cards/test/a.md": "## One\n<!-- id: one -->\n\n$\\frac{1}{2$\n\n"
                                      "## Two\n<!-- id: one -->\n\nx\n\n## Three\n<!-- id: three -->\n\n$$x$$ y\n"})
    result = project.run("build")
    assert result.exit_code == 1
    lines = [line.split(":")[1] for line in result.output.splitlines() if line.startswith("cards/")]
    assert lines == sorted(lines, key=int) and len(lines) == 3


def test_cache_location_from_environment(sample, tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "elsewhere"))
    sample.write({"cards/test/a.md": CARDS + "\n## New?\n<!-- id: new -->\n\nYes.\n"})
    sample.build()
    assert list((tmp_path / "elsewhere").glob("render-*.sqlite"))


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The card files the cache actually parses (neither built nor parsed before)."""
    seen: list[str] = []
    original = pipeline.parse_bytes  # the parse stage, which the pipeline hands to the cache's memo

    def spy(raw, path, shown, *rest):
        seen.append(path.name)
        return original(raw, path, shown, *rest)

    monkeypatch.setattr(pipeline, "parse_bytes", spy)
    return seen


def test_unchanged_files_are_taken_built(project, parses, renders, monkeypatch):
    """A rebuild takes each unchanged file whole: no parsing, rendering or hashing of its cards."""
    project.write({"cards/test/a.md": "## A?\n<!-- id: a -->\n\nAnswer a.\n",
                   "cards/test/b.md": "## B?\n<!-- id: b -->\n\nAnswer b.\n\n## C?\n<!-- id: c -->\n\nC.\n"})
    project.build()
    assert parses == ["a.md", "b.md"] and renders == ["a", "b", "c"]
    hashed = []
    original = resolve.content_hash
    monkeypatch.setattr(resolve, "content_hash", lambda *a: hashed.append("".join(a[1])) or original(*a))
    project.write({"cards/test/b.md": "## B?\n<!-- id: b -->\n\nAnswer b, edited.\n\n## C?\n<!-- id: c -->\n\nC.\n"})
    warm, cold = cached_and_cold(project)
    assert warm == cold and "Answer b, edited." in collection_text(warm)
    assert parses == ["a.md", "b.md", "b.md"]  # a.md was taken built; b.md (changed) was parsed
    assert renders[3:] == ["b", "a", "b", "c"]  # of b.md only the changed card; then the --no-cache build
    # Hashed: b.md's two cards (a.md's came with their hash), then the three of the --no-cache build.
    assert len(hashed) == 2 + 3
    assert not any("Answer a." in h for h in hashed[:2]) and any("Answer a." in h for h in hashed[2:])


def test_built_file_still_meets_a_duplicate_id(project):
    project.write({"cards/test/a.md": "## A?\n<!-- id: a -->\n\nAnswer a.\n"})
    project.build()
    project.write({"cards/test/b.md": "## Also A?\n<!-- id: a -->\n\nAnother a.\n"})
    result = project.run("build")
    assert result.exit_code == 1
    assert "cards/test/b.md:2: duplicate id 'a' (first used at cards/test/a.md:2)" in result.output


def test_changed_deck_id_gives_new_guids(sample):
    deck = sample.root / "decks" / "test.yaml"
    deck.write_text(deck.read_text(encoding="utf-8").replace("1234567890", "1234567891"), encoding="utf-8")
    (sample.root / "decks" / "test.lock").unlink()  # the lock is the old deck's (refused): a new deck on purpose
    warm, cold = cached_and_cold(sample)
    assert warm == cold
    with collection(warm) as conn:
        guids = {row[0] for row in conn.execute("SELECT guid FROM notes")}
    assert genanki.guid_for(1234567891, "sigmoid-derivative") in guids
    assert genanki.guid_for(1234567890, "sigmoid-derivative") not in guids


def test_changed_deck_name_or_subdecks_moves_built_cards(sample):
    """Built files carry each card's deck: renaming the deck or its subdeck mode is not served stale."""
    deck = sample.root / "decks" / "test.yaml"
    for old, new, expected in (("name: Test Deck", "name: Renamed Deck", "Renamed Deck::A"),
                               ("cards:", "subdecks: none\ncards:", '"Renamed Deck"')):
        deck.write_text(deck.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        warm, cold = cached_and_cold(sample)
        assert warm == cold
        with collection(warm) as conn:  # the names of the decks that hold cards
            decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
            used = {row[0] for row in conn.execute("SELECT DISTINCT did FROM cards")}
        names = " ".join(json.dumps(deck["name"]) for key, deck in decks.items() if int(key) in used)
        assert expected in names and "Test Deck" not in names


def test_cache_keeps_one_entry_per_card_and_file(sample):
    """Rebuilding after every edit does not grow the cache: a new entry replaces the one for its card or file."""

    def rows() -> dict[str, int]:
        db = sqlite3.connect(sample.root / ".cache" / "cardsmith" / f"render-v{cache.FORMAT}.sqlite")
        counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("fields", "parsed", "built")}
        db.close()
        return counts

    assert rows() == {"fields": 3, "parsed": 1, "built": 1}  # 3 cards in 1 file, built once
    for edit in range(3):
        sample.write({"cards/test/a.md": CARDS.replace("see ![plot]", f"edit {edit}, see ![plot]")})
        sample.build()
        assert rows() == {"fields": 3, "parsed": 1, "built": 1}
    warm, cold = cached_and_cold(sample)
    assert warm == cold and "edit 2, see" in collection_text(warm)


def test_cache_of_an_earlier_format_is_removed(project):
    old = project.root / ".cache" / "cardsmith" / "render-v1.sqlite"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an old cache")
    project.write({"cards/test/a.md": "## A?\n<!-- id: a -->\n\nAnswer a.\n"})
    project.build()
    assert not old.exists() and (old.parent / f"render-v{cache.FORMAT}.sqlite").is_file()


def test_corrupt_cache_is_rebuilt_not_a_traceback(sample):
    """The cache is disposable: a damaged file (disk full, a stray copy) is replaced, never an error."""
    db = sample.root / ".cache" / "cardsmith" / f"render-v{cache.FORMAT}.sqlite"
    for side in db.parent.glob(db.name + "-*"):
        side.unlink()
    db.write_bytes(b"this is not a database" * 100)
    check = sample.run("check")
    assert check.exit_code == 0, check.output
    sample.write({"cards/test/a.md": CARDS.replace("see ![plot]", "again, see ![plot]")})
    warm, cold = cached_and_cold(sample)
    assert warm == cold and "again, see" in collection_text(warm)
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"


# Issue 12, item 3: a cache that is only ever a shortcut --------------------------------------------

TWO_FILES = {"cards/test/a.md": CARDS, "cards/test/img/plot.png": PNG_A,
             "cards/test/b.md": "## What is b?\n<!-- id: b-one -->\n\nAnswer b.\n\n## And c?\n<!-- id: b-two -->\n\nAnswer c.\n"}
NOTICE = "some entries were damaged or misplaced: ignored, their cards rendered afresh"


@pytest.fixture
def two_files(project):
    """Two card files, built once: every table holds entries for both."""
    project.write(TWO_FILES)
    project.build()
    return project


def cache_db(project) -> sqlite3.Connection:
    db = sqlite3.connect(project.root / ".cache" / "cardsmith" / f"render-v{cache.FORMAT}.sqlite")
    db.isolation_level = None
    return db


def tamper(project, table: str, change) -> None:
    """Apply `change(rows) -> rows` to a table's (key, value, digest) rows; `parsed` and `fields` are only
    read for files not taken built, so their built entries go."""
    db = cache_db(project)
    if table != "built":
        db.execute("DELETE FROM built")
    digests = "digest" in [column[1] for column in db.execute(f"PRAGMA table_info({table})")]  # (not before issue 12)
    rows = [(key, value if isinstance(value, bytes) else value.encode(), digest) for key, value, digest in
            db.execute(f"SELECT key, value, {'digest' if digests else 'NULL'} FROM {table} ORDER BY key")]
    assert len(rows) >= 2
    for key, value, digest in change(rows):
        db.execute(f"UPDATE {table} SET value = ?{', digest = ?' if digests else ''} WHERE key = ?",
                   (value, digest, key) if digests else (value, key))
    db.close()


def assert_shortcut_only(project) -> str:
    """The cached build equals the --no-cache one, the lock is unchanged (no card deleted or changed), and
    the cached build said once that it ignored entries; return its output."""
    lock = (project.root / "decks" / "test.lock").read_bytes()
    cached = project.build("--out", str(project.root / "with-cache"))
    project.build("--no-cache", "--out", str(project.root / "cold"))
    assert (project.root / "with-cache" / "test.apkg").read_bytes() == (project.root / "cold" / "test.apkg").read_bytes()
    assert (project.root / "decks" / "test.lock").read_bytes() == lock
    assert "0 new, 0 changed, 5 unchanged, 0 deleted, 0 moved" in cached.output
    return cached.output


@pytest.mark.parametrize("table", ["fields", "parsed", "built"])
def test_tampered_entries_are_misses(two_files, table):
    def change(rows):
        return [(key, value.replace(b"Answer", b"Tamper").replace(b"sigmoid", b"sigmoio"), digest)
                for key, value, digest in rows]
    tamper(two_files, table, change)
    output = assert_shortcut_only(two_files)
    assert output.count(NOTICE) == 1
    assert "Tamper" not in collection_text((two_files.root / "with-cache" / "test.apkg").read_bytes())


@pytest.mark.parametrize("table", ["fields", "parsed", "built"])
def test_entries_swapped_between_keys_are_misses(two_files, table):
    def swap(rows):
        (k1, v1, d1), (k2, v2, d2) = rows[:2]
        return [(k1, v2, d2), (k2, v1, d1)]
    tamper(two_files, table, swap)
    assert assert_shortcut_only(two_files).count(NOTICE) == 1


@pytest.mark.parametrize("table", ["fields", "parsed", "built"])
def test_entries_of_the_wrong_shape_are_misses(two_files, table):
    """Even with a matching digest (written on purpose), an entry that is not what cardsmith writes is a miss."""
    from cardsmith import cachecodec

    def reshape(rows):
        shapes = [b'[["a"], []]', b'{"card_id": [1]}', b"[[1, 2], [[3, 4]]]", b'{"x": 1}\nxyz', b"\xff\xfe", b"[]"]
        return [(key, shape, cachecodec.digest(table, key, shape)) for (key, _, _), shape in zip(rows, shapes * 9)]
    tamper(two_files, table, reshape)
    assert assert_shortcut_only(two_files).count(NOTICE) == 1


class CreatesFile:
    """Unpickling this creates a file: proof that a pickle from the cache was loaded."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("table", ["fields", "parsed", "built"])
def test_planted_pickle_is_never_unpickled(two_files, table):
    import pickle

    from cardsmith import cachecodec

    marker = two_files.root.parent / f"pwned-{table}"
    payload = pickle.dumps(CreatesFile(marker))

    def plant(rows):
        return [(key, payload, cachecodec.digest(table, key, payload)) for key, _, _ in rows]
    tamper(two_files, table, plant)
    assert assert_shortcut_only(two_files).count(NOTICE) == 1
    assert two_files.run("check").exit_code == 0
    assert not marker.exists()


@pytest.mark.parametrize("damage", ["truncate", "scribble", "foreign-schema"])
def test_damaged_cache_file_is_replaced(two_files, damage):
    """A damaged file is replaced on the next build (it used to fail every build until .cache was deleted)."""
    path = two_files.root / ".cache" / "cardsmith" / f"render-v{cache.FORMAT}.sqlite"
    db = cache_db(two_files)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 8192
    if damage == "truncate":
        path.write_bytes(data[:len(data) // 2 + 100])
    elif damage == "scribble":
        import random

        noise = random.Random(7)
        for page in range(1, len(data) // 4096):  # every page but the first (the header stays valid)
            at = page * 4096 + noise.randrange(0, 4000)
            data[at:at + 64] = noise.randbytes(64)
        path.write_bytes(bytes(data))
    else:
        path.unlink()
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE built (key TEXT PRIMARY KEY, value BLOB)")
        other.commit()
        other.close()
    two_files.write({"cards/test/b.md": TWO_FILES["cards/test/b.md"].replace("Answer c.", "Answer c, again.")})
    assert two_files.run("check").exit_code == 0
    lock = (two_files.root / "decks" / "test.lock").read_text()
    first = two_files.build("--out", str(two_files.root / "with-cache"))
    assert "Traceback" not in first.output and "1 changed" in first.output
    assert "Answer c, again." in collection_text((two_files.root / "with-cache" / "test.apkg").read_bytes())
    two_files.build("--no-cache", "--out", str(two_files.root / "cold"))
    assert (two_files.root / "with-cache" / "test.apkg").read_bytes() == (two_files.root / "cold" / "test.apkg").read_bytes()
    again = two_files.build()
    assert "the render cache" not in again.output  # replaced: the next build finds it whole
    assert json.loads((two_files.root / "decks" / "test.lock").read_text())["cards"].keys() == json.loads(lock)["cards"].keys()


def test_workers_only_on_idle_cores(monkeypatch):
    """Render workers: CARDSMITH_JOBS when set, else the cores this process may use that the load leaves idle
    (a worker on a busy core slows a build down), and always at least one."""
    monkeypatch.delenv(cache.JOBS_ENV, raising=False)
    monkeypatch.setattr(cache.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for load, expected in ((0.05, 2), (0.6, 1), (1.7, 1), (9.0, 1)):
        monkeypatch.setattr(cache.os, "getloadavg", lambda load=load: (load, load, load))
        assert cache.jobs() == expected, load
    monkeypatch.setenv(cache.JOBS_ENV, "3")
    assert cache.jobs() == 3
