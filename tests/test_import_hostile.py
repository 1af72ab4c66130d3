"""Issue 12, item 4: `cardsmith import` of a hostile or damaged package never writes outside --out (and the
templates/ and decks/ files it adds), never replaces a file unless --force, unpacks media only within limits,
refuses every malformed package with one clear error, and writes sources that pass `check`.

The packages are built by hand (zipfile + sqlite3), as an attacker would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import traceback
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardsmith.cli import main
from conftest import REPO, Project, import_apkg

BASIC_ID, CLOZE_ID = 1700000000001, 1700000000002
MODELS = {
    str(BASIC_ID): {"id": BASIC_ID, "name": "Basic", "type": 0, "css": ".card { color: black; }",
                    "flds": [{"name": "Front", "ord": 0}, {"name": "Back", "ord": 1}],
                    "tmpls": [{"name": "Card 1", "ord": 0, "qfmt": "{{Front}}",
                               "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}]},
    str(CLOZE_ID): {"id": CLOZE_ID, "name": "Cloze", "type": 1, "css": ".card { color: black; }",
                    "flds": [{"name": "Text", "ord": 0}, {"name": "Back Extra", "ord": 1}],
                    "tmpls": [{"name": "Cloze", "ord": 0, "qfmt": "{{cloze:Text}}",
                               "afmt": "{{cloze:Text}}<br>{{Back Extra}}"}]},
}
DECKS = {"1": {"id": 1, "name": "Default"}, "10": {"id": 10, "name": "Hostile"}}
NOTE = ("guid-1", BASIC_ID, ["What is 2+2?", "4"], "", 10)
SCHEMA = """
CREATE TABLE col (id INTEGER PRIMARY KEY, models TEXT NOT NULL, decks TEXT NOT NULL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, guid TEXT NOT NULL, mid INTEGER NOT NULL, tags TEXT NOT NULL,
                    flds TEXT NOT NULL, mod INTEGER NOT NULL DEFAULT 1700000000);
CREATE TABLE cards (id INTEGER PRIMARY KEY, nid INTEGER NOT NULL, did INTEGER NOT NULL, ord INTEGER NOT NULL);
"""


def collection_bytes(tmp: Path, notes=(NOTE,), models=MODELS, decks=DECKS, schema: str = SCHEMA,
                     col_row: bool = True) -> bytes:
    """A legacy Anki collection (SQLite) with the tables and columns the importer reads."""
    path = tmp / "collection.sqlite"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(schema)
    if col_row:
        db.execute("INSERT INTO col (id, models, decks) VALUES (1, ?, ?)",
                   (models if isinstance(models, str) else json.dumps(models),
                    decks if isinstance(decks, str) else json.dumps(decks)))
    for nid, (guid, mid, fields, tags, did) in enumerate(notes, 1):
        db.execute("INSERT INTO notes (id, guid, mid, tags, flds) VALUES (?, ?, ?, ?, ?)",
                   (nid, guid, mid, tags, "\x1f".join(fields) if isinstance(fields, list) else fields))
        db.execute("INSERT INTO cards (nid, did, ord) VALUES (?, ?, 0)", (nid, did))
    db.commit()
    db.close()
    return path.read_bytes()


def package(path: Path, collection: bytes | None = None, media: dict[str, bytes] | None = None,
            media_map: object = None, **members: bytes) -> Path:
    """An .apkg: collection.anki2, the media map and the numbered media files, plus any other members."""
    media = media or {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if collection is not None:
            archive.writestr("collection.anki2", collection)
        if media_map is None:
            media_map = {str(i): name for i, name in enumerate(media)}
        archive.writestr("media", media_map if isinstance(media_map, (str, bytes)) else json.dumps(media_map))
        for i, content in enumerate(media.values()):
            archive.writestr(str(i), content)
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file and symlink under a folder, by relative path (but the project lock cardsmith holds while
    it writes: .cache/cardsmith/project.lock)."""
    return {str(p.relative_to(root)): (f"-> {os.readlink(p)}" if p.is_symlink() else p.read_bytes())
            for p in sorted(root.rglob("*"))
            if (p.is_symlink() or p.is_file()) and p != root / ".cache" / "cardsmith" / "project.lock"}


def run(project, *args: str):
    """The CLI as a user runs it; a traceback of any kind fails the test."""
    result = CliRunner().invoke(main, [args[0], "--root", str(project.root), *args[1:]], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(result.exception)))
    return result


def import_into(project, apkg: Path, *args: str, out: str = "cards/imported"):
    return run(project, "import", "--out", str(project.root / out), str(apkg), *args)


@pytest.fixture
def empty_project(project):
    """A project with the default templates and no deck: the import adds decks/imported.yaml."""
    (project.root / "decks/test.yaml").unlink()
    return project


def assert_checks_and_builds(project) -> None:
    check = run(project, "check")
    assert check.exit_code == 0 and " error" not in check.output.replace("0 errors", ""), check.output
    build = run(project, "build")
    assert build.exit_code == 0, build.output


# --- malformed packages: one clear error, nothing written ---------------------------------------------------

def _members_without_collection(tmp):
    return {"media": b"{}", "readme.txt": b"hello"}


MALFORMED = {
    "not a zip": (lambda tmp: b"PK\x03\x04 this is no zip", "not an Anki package"),
    "zip without collection": (lambda tmp: _members_without_collection(tmp), "no collection inside"),
    "collection not SQLite": (lambda tmp: {"collection.anki2": b"SQLite format 3\x00" + b"\xff" * 4000},
                              "collection is not a readable SQLite database"),
    "collection random bytes": (lambda tmp: {"collection.anki2": os.urandom(5000)},
                                "collection is not a readable SQLite database"),
    "no col table": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, schema=SCHEMA.replace("CREATE TABLE col (", "CREATE TABLE other ("), col_row=False)},
        "collection has no table 'col'"),
    "notes without tags column": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, schema=SCHEMA.replace("tags TEXT NOT NULL,", "tagz TEXT,"), notes=())},
        "table 'notes' has no column 'tags'"),
    "notes is a view": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, schema=SCHEMA.replace("CREATE TABLE notes (", "CREATE TABLE notes_t (")
        + "CREATE VIEW notes AS SELECT * FROM notes_t;", notes=())},
        "collection has no table 'notes'"),
    "empty col table": (lambda tmp: {"collection.anki2": collection_bytes(tmp, col_row=False)},
                        "table 'col' has no row"),
    "models not JSON": (lambda tmp: {"collection.anki2": collection_bytes(tmp, models="{not json")},
                        "col.models is not valid JSON"),
    "decks not JSON": (lambda tmp: {"collection.anki2": collection_bytes(tmp, decks="[1, 2")},
                       "col.decks is not valid JSON"),
    "models a list": (lambda tmp: {"collection.anki2": collection_bytes(tmp, models=[1, 2])},
                      "col.models is not a JSON object"),
    "model without fields": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, models={str(BASIC_ID): {k: v for k, v in MODELS[str(BASIC_ID)].items() if k != "flds"}})},
        f"note type {BASIC_ID} in col.models: 'flds' must be a list"),
    "model id not a number": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, models={"abc": MODELS[str(BASIC_ID)]})}, "note type 'abc' in col.models: its id must be a number"),
    "deck without name": (lambda tmp: {"collection.anki2": collection_bytes(tmp, decks={"10": {"id": 10}})},
                          "deck 10 in col.decks: 'name' must be a string"),
    "media map not JSON": (lambda tmp: {"collection.anki2": collection_bytes(tmp), "media": b"\xff{"},
                           "the media map is not valid JSON"),
    "media map a list": (lambda tmp: {"collection.anki2": collection_bytes(tmp), "media": b"[]"},
                         "the media map is not a JSON object"),
    "media map values not names": (lambda tmp: {"collection.anki2": collection_bytes(tmp), "media": b'{"0": 5}'},
                                   "the media map is not a JSON object of file names"),
    "three fields in a two-field note type": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, notes=[("g", BASIC_ID, ["a", "b", "c"], "", 10)])},
        "note g has 3 fields, its note type 'Basic' has 2"),
    "note of a missing note type": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, notes=[("g", 99, ["a", "b"], "", 10)])}, "note g has note type 99, which is not in the collection"),
    "fields not text": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, schema=SCHEMA.replace("flds TEXT NOT NULL", "flds"), notes=[("g", BASIC_ID, b"\x00\x01", "", 10)])},
        "note g: its fields are not text"),
    "lone surrogate in a template": (lambda tmp: {"collection.anki2": collection_bytes(tmp, models={str(BASIC_ID): {
        **MODELS[str(BASIC_ID)], "css": "/* \udcff */"}})}, "col.models holds text that is not Unicode"),
    "lone surrogate in a deck name": (lambda tmp: {"collection.anki2": collection_bytes(
        tmp, decks={"10": {"id": 10, "name": "Hos\ud800tile"}})}, "col.decks holds text that is not Unicode"),
    "damaged zip member": (lambda tmp: "damaged", "damaged"),
    "newer format, damaged collection": (lambda tmp: {"collection.anki21b": os.urandom(3000), "media": b"\x28\xb5",
                                                      "meta": b"\x08\x03"}, "damaged package: collection.anki21b"),
    "newer format, no media map": (lambda tmp: {"collection.anki21b": os.urandom(3000)},
                                   "damaged package: collection.anki21b"),
    "newer format, newer version": (lambda tmp: {"collection.anki21b": b"", "meta": b"\x08\x04"},
                                    "a format newer than cardsmith reads (version 4)"),
}


def malformed_package(tmp: Path, case: str) -> Path:
    make, _ = MALFORMED[case]
    content = make(tmp)
    path = tmp / "bad.apkg"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "damaged":  # a bit flipped in the compressed collection: the CRC no longer matches
        package(path, collection_bytes(tmp))
        data = bytearray(path.read_bytes())
        start = data.index(b"collection.anki2") + len("collection.anki2")
        data[start + 200] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, member in content.items():
                archive.writestr(name, member)
    return path


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_package_gives_one_clear_error(empty_project, tmp_path, case):
    apkg = malformed_package(tmp_path, case)
    before = snapshot(empty_project.root)
    result = import_into(empty_project, apkg)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2 and lines[1] == "1 error; nothing was written.", result.output
    expected = MALFORMED[case][1] if case != "damaged zip member" else "damaged package"
    assert lines[0].startswith(f"{apkg}:0: ") and expected in lines[0], lines[0]
    assert snapshot(empty_project.root) == before


# --- nothing written outside --out, nothing replaced without --force ---------------------------------------

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       b"\x00\x00\x00\x0cIDAT\x08\xd7c\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def image_package(tmp: Path, name: str = "pic.png", src: str | None = None, content: bytes = PNG) -> Path:
    note = ("guid-img", BASIC_ID, [f'Where is this? <img src="{src or name}">', "Here"], "", 10)
    return package(tmp / "img.apkg", collection_bytes(tmp, notes=[NOTE, note]), media={name: content})


@pytest.mark.parametrize("name", ["../../../escaped.png", "/tmp/escaped-absolute.png", "..", ".", "",
                                  "a/../../escaped.png", "..\\..\\escaped.png", "nul\x00.png"])
def test_media_names_never_escape(empty_project, tmp_path, name):
    outside = snapshot(tmp_path)
    result = import_into(empty_project, image_package(tmp_path, name))
    assert result.exit_code == 0, result.output
    assert "left out: not a plain file name" in result.output
    assert "which the package lacks" in result.output or not name
    assert not (empty_project.root / "cards/imported/media").exists()
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith(("proj/", "img.apkg", "collection"))} \
        == {k: v for k, v in outside.items() if not k.startswith(("proj/", "img.apkg", "collection"))}
    assert not Path("/tmp/escaped-absolute.png").exists()
    assert_checks_and_builds(empty_project)


@pytest.mark.parametrize("link", ["cards/imported/media", "cards/imported/main.md", "cards/imported",
                                  "templates", "decks", "cards/imported/hostile.md"])
def test_symlinks_in_the_paths_it_writes_are_refused(empty_project, tmp_path, link):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = empty_project.root / link
    if target.exists():  # templates/: keep the project's note types where the link points
        target.rename(elsewhere / "moved")
        target.symlink_to(elsewhere / "moved")
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(elsewhere / ("dir" if "." not in target.name else "file.md"))
        if "." not in target.name:
            (elsewhere / "dir").mkdir()
    # It would write main.md, hostile.md (a subdeck), media/pic.png, templates/anki-basic/ and decks/imported.yaml.
    notes = [NOTE, ("guid-img", BASIC_ID, ['Where is this? <img src="pic.png">', "Here"], "", 10),
             ("g2", BASIC_ID, ["Q2", "A2"], "", 11)]
    apkg = package(tmp_path / "all.apkg", collection_bytes(
        tmp_path, notes=notes, decks={**DECKS, "11": {"id": 11, "name": "Hostile::Hostile"}}), media={"pic.png": PNG})
    before, outside = snapshot(empty_project.root), snapshot(elsewhere)
    for force in ((), ("--force",)):
        result = import_into(empty_project, apkg, *force)
        assert result.exit_code == 1, result.output
        if link == "templates":  # the project's note types are read first (an import is checked against them)
            assert "templates/basic/notetype.yaml:1: note type 'templates/basic/notetype.yaml' is outside the " \
                   "project" in result.output
            continue
        assert f"{link}:0: is a symbolic link: `import` never writes through one" in result.output
        assert result.output.endswith("1 error; nothing was written.\n")
        assert snapshot(empty_project.root) == before and snapshot(elsewhere) == outside


def test_existing_files_are_replaced_only_with_force(empty_project, tmp_path):
    apkg = image_package(tmp_path)
    assert import_into(empty_project, apkg).exit_code == 0
    root = empty_project.root
    main, picture, deck = root / "cards/imported/main.md", root / "cards/imported/media/pic.png", root / "decks/imported.yaml"
    main.write_text("my own edits\n")
    picture.write_bytes(b"my own picture")
    before = snapshot(root)
    result = import_into(empty_project, apkg)  # the same deck again: refused, saying where it is
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "decks/imported.yaml:1: the project has the deck 'Hostile' (id 10) already, and the package's deck 'Hostile' "
        "(id 10) would be the same deck in Anki, which knows decks by name. Was this package imported before? "
        "(`--force` imports it again over its own files)",
        "1 error; nothing was written."]
    assert snapshot(root) == before
    deck.rename(root / "decks/elsewhere.yaml")  # --force replaces the deck's own files only, never another deck
    result = import_into(empty_project, apkg, "--force")
    assert result.exit_code == 1 and "decks/elsewhere.yaml:1: the project has the deck 'Hostile'" in result.output
    (root / "decks/elsewhere.yaml").rename(deck)
    result = import_into(empty_project, apkg, "--force")
    assert result.exit_code == 0, result.output
    assert "replaced cards/imported/main.md" in result.output
    assert "replaced cards/imported/media/pic.png" in result.output
    assert "replaced decks/imported.yaml" in result.output and "name: Hostile" in deck.read_text()
    assert "my own" not in main.read_text() and picture.read_bytes() == PNG
    assert_checks_and_builds(empty_project)


# --- media: within limits -----------------------------------------------------------------------------------

def test_a_media_bomb_is_refused(empty_project, tmp_path, monkeypatch):
    """Every media file is carried (LaTeX images and template fonts are named by no field), each within limits."""
    import cardsmith.anki.apkg

    monkeypatch.setattr(cardsmith.anki.apkg, "MEDIA_FILE_LIMIT", 1 << 20)
    bomb = b"\0" * (8 << 20)  # 8 MB of zeros: 8 KB compressed, 8 times the (lowered) limit
    unused = package(tmp_path / "unused.apkg", collection_bytes(tmp_path), media={"bomb.bin": bomb})
    before = snapshot(empty_project.root)
    result = import_into(empty_project, unused)
    assert result.exit_code == 1
    assert f"{unused}:0: media file 'bomb.bin' is larger than 1 MB once unpacked" in result.output
    assert snapshot(empty_project.root) == before

    used = image_package(tmp_path, "bomb.png", content=bomb)
    before = snapshot(empty_project.root)
    result = import_into(empty_project, used, out="cards/other")
    assert result.exit_code == 1
    assert f"{used}:0: media file 'bomb.png' is larger than 1 MB once unpacked" in result.output
    assert snapshot(empty_project.root) == before


def test_a_used_bomb_in_the_newer_format_is_refused(empty_project, tmp_path, monkeypatch, collection):
    import cardsmith.anki.apkg
    from anki.collection import ExportAnkiPackageOptions

    monkeypatch.setattr(cardsmith.anki.apkg, "MEDIA_FILE_LIMIT", 1 << 20)
    collection.media.write_data("bomb.png", b"\0" * (2 << 20))
    note = collection.new_note(collection.models.by_name("Basic"))
    note.fields[:] = ['<img src="bomb.png">', "b"]
    collection.add_note(note, collection.decks.id("Hostile"))
    apkg = tmp_path / "modern.apkg"
    collection.export_anki_package(out_path=str(apkg), limit=None, options=ExportAnkiPackageOptions(
        with_scheduling=False, with_media=True, legacy=False))
    before = snapshot(empty_project.root)
    result = import_into(empty_project, apkg)
    assert result.exit_code == 1
    assert f"{apkg}:0: media file 'bomb.png' is larger than 1 MB once unpacked" in result.output
    assert snapshot(empty_project.root) == before


def test_a_collection_bomb_is_refused(empty_project, tmp_path, monkeypatch):
    import cardsmith.anki.apkg

    monkeypatch.setattr(cardsmith.anki.apkg, "COLLECTION_LIMIT", 1 << 20)
    apkg = package(tmp_path / "bomb.apkg", collection_bytes(tmp_path) + b"\0" * (8 << 20))
    result = import_into(empty_project, apkg)
    assert result.exit_code == 1
    assert f"{apkg}:0: the collection is larger than 1 MB once unpacked" in result.output


def test_a_collection_bomb_in_the_newer_format_is_refused(empty_project, tmp_path, monkeypatch):
    """Read with zstandard, not unpacked by Anki's importer first (which wrote 2.6 GB to /tmp for a bomb)."""
    import io

    import zstandard

    import cardsmith.anki.apkg

    monkeypatch.setattr(cardsmith.anki.apkg, "COLLECTION_LIMIT", 1 << 20)
    streamed = io.BytesIO()
    with zstandard.ZstdCompressor().stream_writer(streamed, closefd=False) as writer:
        writer.write(collection_bytes(tmp_path) + b"\0" * (8 << 20))
    apkg = package(tmp_path / "bomb.apkg", **{"collection.anki21b": streamed.getvalue(), "meta": b"\x08\x03"})
    before = snapshot(empty_project.root)
    result = import_into(empty_project, apkg)
    assert result.exit_code == 1
    assert f"{apkg}:0: the collection is larger than 1 MB once unpacked" in result.output
    assert snapshot(empty_project.root) == before


# --- collisions: every subdeck and note gets its own place ------------------------------------------------

def test_subdecks_never_share_a_file_and_none_is_hidden(empty_project, tmp_path, collection):
    names = ["Geo", "geo", "Geo!", "日本語", "Ελληνικά", ".hidden", "main", "a::b", "a b", "../up"]
    decks = {**DECKS, **{str(20 + i): {"id": 20 + i, "name": f"Hostile::{n}"} for i, n in enumerate(names)}}
    notes = [NOTE] + [(f"g{i}", BASIC_ID, [f"Question {i} in {n}?", f"Answer {i}"], "", 20 + i)
                      for i, n in enumerate(names)]
    apkg = package(tmp_path / "decks.apkg", collection_bytes(tmp_path, notes=notes, decks=decks))
    result = import_into(empty_project, apkg)
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (empty_project.root / "cards/imported").iterdir())
    assert len(files) == len(names) + 1 and not any(f.startswith(".") for f in files), files
    assert "日本語.md" in files
    assert_checks_and_builds(empty_project)
    log = import_apkg(collection, empty_project.root / "dist/imported.apkg")
    assert len(log.new) == len(notes)
    in_deck = {n: collection.find_notes(f'"deck:Hostile::{n}" -"deck:Hostile::{n}::*"') for n in names
               if "::" not in n}
    assert all(len(found) == 1 for found in in_deck.values()), in_deck


def test_duplicate_guids_make_one_note(empty_project, tmp_path):
    notes = [NOTE, ("guid-1", BASIC_ID, ["Same GUID again?", "Yes"], "", 10)]
    result = import_into(empty_project, package(tmp_path / "dup.apkg", collection_bytes(tmp_path, notes=notes)))
    assert result.exit_code == 0, result.output
    assert "note 'guid-1' (\"Same GUID again?\"): not imported: its GUID is an earlier note's" in result.output
    assert_checks_and_builds(empty_project)


# --- what it writes passes check: any tag, any field, any --out name ---------------------------------------

def test_any_tag_field_and_out_name_give_sources_that_check_and_build(empty_project, tmp_path, collection):
    tags = " a;b x-->y q\"q a;guid:evil guid:evil a::::b ok::tag ü * a\u2028b "
    notes = [
        ("guid-tags", BASIC_ID, ["Tagged?", "Yes"], tags, 10),
        ("guid-nul", BASIC_ID, ["NUL\x00 in the question?", "and\x00 in the answer"], "", 10),
        ("guid-fence", BASIC_ID, ["~~~", "```"], "", 10),
        ("guid-heading", BASIC_ID, ["<div>a</div><div>## heading</div><div>---</div>", "<!-- id: x -->\n## b"], "", 10),
        ("guid-cloze", CLOZE_ID, ["{{c1::x}} and \x00 ~~~", ""], "", 10),
        ("guid;with;semicolons", BASIC_ID, ["Semicolons in the GUID?", "Fine"], "", 10),
        ("guid\nnewline", BASIC_ID, ["Line break in the GUID?", "Skipped"], "", 10),
        ("guid-no-deletion", CLOZE_ID, ["A cloze without a deletion", "Skipped"], "", 10),
    ]
    apkg = package(tmp_path / "tags.apkg", collection_bytes(tmp_path, notes=notes))
    out = 'cards/we ird [*?] name;--> é'
    result = import_into(empty_project, apkg, out=out)
    assert result.exit_code == 0, result.output
    assert "note 'guid\\nnewline' (\"Line break in the GUID?\"): not imported: its GUID cannot be written" \
        in result.output
    decks = sorted(p.name for p in (empty_project.root / "decks").iterdir())
    assert decks == ["we-ird-name-e.lock", "we-ird-name-e.yaml"]
    assert_checks_and_builds(empty_project)
    log = import_apkg(collection, empty_project.root / "dist/we-ird-name-e.apkg")
    assert len(log.new) == 7
    guids = {collection.get_note(n).guid: collection.get_note(n) for n in collection.find_notes("")}
    assert set(guids) == {"guid-tags", "guid-nul", "guid-fence", "guid-heading", "guid-cloze",
                          "guid;with;semicolons", "guid-no-deletion"}
    assert sorted(guids["guid-tags"].tags) == sorted(["x-->y", "guid:evil", "ok::tag", "ü", "*", "a;b", 'q"q',
                                                      "a;guid:evil", "a\u2028b"])
    assert "note 'guid-tags' (\"Tagged?\"): tags Anki would not keep either, dropped: 'a::::b'" in result.output
    assert "NUL" in guids["guid-nul"].fields[0] and "\x00" not in guids["guid-nul"].fields[0]


# --- any field content: a property-based search -----------------------------------------------------------

FRAGMENTS = ["## ", "# ", "---", "```", "~~~", "<!--", "-->", "<!-- id: x -->", "$", "$$", "\\(", "\\)", "\\[",
             "\\]", "{{c1::", "{{c2::", "::", "}}", "{", "}", "<div>", "</div>", "<br>", "<p>", "<b>", "</b>",
             "<i>", "<code>", "</code>", "<pre>", "</pre>", "<ul><li>", "</li></ul>", "<table><tr><td>",
             "<img src=\"pic.png\">", "<img src='pic.png'>", "<img src=missing.png>", "<img src=\"../x.png\">",
             "<script>", "</script>", "<a href=\"https://x\">", "</a>", "\n", "\r\n", "\r", "\x00", "\x0b", "\f",
             "\u2028", "\t", " ", "&amp;", "&lt;", "&#10;", "*", "_", "[", "]", "(", ")", "\\", "`", "|", "- ",
             "1. ", "> ", ":", ";", "guid: x", "a", "word", "é", "日本", "{=html}", " {=html}", "```{=html}", "````",
             "### Back", "### Text", "<p>", "</p>", "<strong>", "</strong>", "[$]", "[/$]", "[sound:x.mp3]"]


@given(fields=st.lists(st.tuples(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join),
                                 st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join), st.booleans()),
                       min_size=1, max_size=12))
@settings(max_examples=int(os.environ.get("CARDSMITH_FUZZ_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
          derandomize=bool(os.environ.get("CI")))
def test_any_field_content_imports_exactly_into_sources_that_check_and_build(tmp_path_factory, fields):
    """Every note imports, and its build is the package's, byte for byte, but for a carriage return or a NUL (which
    no card file holds): those notes, and only those, are said to differ."""
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "proj"
    shutil.copytree(REPO / "templates", root / "templates")
    project = Project(root)
    notes = [(f"fuzz-{i}", CLOZE_ID if cloze else BASIC_ID, [question, answer], "", 10)
             for i, (question, answer, cloze) in enumerate(fields)]
    notes.append(NOTE)
    apkg = package(base / "fuzz.apkg", collection_bytes(base, notes=notes), media={"pic.png": PNG})
    result = import_into(project, apkg, "--verify")
    assert f"{len(notes)} notes imported" in result.output, result.output
    inexact = {guid for guid, _, values, _, _ in notes if any("\r" in v or "\x00" in v for v in values)}
    differing = set(re.findall(r"note '(fuzz-\d+)' \([^\n]*\): field '[^']+' differs", result.output))
    assert differing == inexact, result.output
    assert result.exit_code == (1 if inexact else 0), result.output
    assert_checks_and_builds(project)


def test_a_package_whose_notes_all_fail_writes_nothing(empty_project, tmp_path):
    notes = [(" g1", BASIC_ID, ["", "a GUID with a space"], "", 10), ("g2-->", CLOZE_ID, ["a GUID with -->", ""], "", 10)]
    before = snapshot(empty_project.root)
    result = import_into(empty_project, package(tmp_path / "empty.apkg", collection_bytes(tmp_path, notes=notes)))
    assert result.exit_code == 1
    why = "not imported: its GUID cannot be written in an id comment (spaces at its ends, a line break or `-->`)"
    assert result.output.splitlines() == [
        f"{tmp_path / 'empty.apkg'}: warning: note ' g1' (\"\"): {why}",
        f"{tmp_path / 'empty.apkg'}: warning: note 'g2-->' (\"a GUID with -->\"): {why}",
        f"{tmp_path / 'empty.apkg'}:0: no note could be imported",
        "1 error; nothing was written."]
    assert snapshot(empty_project.root) == before


def test_a_subdeck_whose_notes_all_fail_gets_no_file(empty_project, tmp_path):
    notes = [NOTE, ("g2\n", BASIC_ID, ["Only a question", ""], "", 11)]
    apkg = package(tmp_path / "sub.apkg", collection_bytes(
        tmp_path, notes=notes, decks={**DECKS, "11": {"id": 11, "name": "Hostile::Empty"}}))
    result = import_into(empty_project, apkg)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (empty_project.root / "cards/imported").iterdir()] == ["main.md"]
    assert_checks_and_builds(empty_project)
