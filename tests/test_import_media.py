"""`cardsmith import` of fields and media names that stress the rules for finding an image or sound (after the
merge with the trust fixes): however a field names a file, the build keeps the field byte for byte and packages
exactly the package's media files, under their names."""

from __future__ import annotations

import io
import json
import os
import unicodedata
import zipfile
from pathlib import Path

import pytest

from cardsmith.anki.apkg import open_package
from conftest import import_apkg
from test_import_hostile import (BASIC_ID, PNG, assert_checks_and_builds, collection_bytes, empty_project,  # noqa: F401
                                 import_into, package, run)


def built_media(project, deck: str = "imported") -> list[str]:
    with open_package(project.root / "dist" / f"{deck}.apkg") as made:
        return sorted(made.media)


def test_a_path_the_package_lacks_is_never_found_beside_the_cards(empty_project, tmp_path):
    """Anki's media folder is flat: `media/x.png` or `main.md` name no file of the package, so the build must not
    find them under the deck's folder (the media folder itself, a card file) and rewrite the field."""
    fields = ['<img src="media/x.png"> <img src="../imported/media/x.png">',
              '<img src="main.md"> [sound:../../decks/imported.yaml] <img alt="<" src="c<d.png">']
    apkg = package(tmp_path / "paths.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, fields, "", 10)]),
                   media={"x.png": PNG})
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "verify: a build of the imported sources holds the package's 1 note exactly" in result.output
    for name in ("media/x.png", "../imported/media/x.png", "main.md", "../../decks/imported.yaml", "c<d.png"):
        assert f"uses the media file '{name}', which the package lacks" in result.output
    assert_checks_and_builds(empty_project)
    assert built_media(empty_project) == ["x.png"]


def test_a_media_name_of_255_bytes_is_written_under_its_name(empty_project, tmp_path):
    """The longest name a file system takes: the temporary file next to it cannot add `.…tmp` to it."""
    name = "é" * 100 + "m" * 51 + ".mp3"  # 255 bytes in UTF-8
    apkg = package(tmp_path / "long.apkg", collection_bytes(
        tmp_path, notes=[("g", BASIC_ID, ["Long?", f"[sound:{name}]"], "", 10)]), media={name: b"ID3 long"})
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "verify: a build of the imported sources holds the package's 1 note exactly" in result.output
    assert (empty_project.root / "cards/imported/media" / name).read_bytes() == b"ID3 long"
    assert_checks_and_builds(empty_project)
    assert built_media(empty_project) == [name]


@pytest.mark.parametrize("kind", ["fifo", "link inside", "link outside", "link to /dev/zero", "dangling link"])
def test_a_media_file_replaced_after_the_import_is_packaged_or_refused_by_name(empty_project, tmp_path, kind):
    """A file of the media folder that no field names (a template's font) is packaged all the same: made a FIFO
    (it was left out of the package without a word), a link to a file inside the project (packaged with that
    file's bytes under its own name), a link outside, to /dev/zero or to nothing: the build names the file."""
    fields = ['<img src="x.png">', "Here"]
    apkg = package(tmp_path / "font.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, fields, "", 10)]),
                   media={"x.png": PNG, "_font.woff": b"wOFF"})
    assert import_into(empty_project, apkg).exit_code == 0
    font = empty_project.root / "cards/imported/media/_font.woff"
    font.unlink()
    if kind == "fifo":
        os.mkfifo(font)
    elif kind == "link inside":
        (empty_project.root / "cards/other.woff").write_bytes(b"wOFF other")
        font.symlink_to("../../other.woff")
    else:
        font.symlink_to({"link outside": str(apkg), "link to /dev/zero": "/dev/zero", "dangling link": "gone.woff"}[kind])
    result = run(empty_project, "build")
    if kind == "link inside":
        assert result.exit_code == 0, result.output
        with open_package(empty_project.root / "dist/imported.apkg") as made:
            assert sorted(made.media) == ["_font.woff", "x.png"]
            assert made.extract_media("_font.woff", io.BytesIO(), 100) == len(b"wOFF other")
        return
    why = {"fifo": "is not a regular file (a FIFO, device or socket)", "dangling link": "not found (a symbolic link "
           "to nothing)"}.get(kind, "is outside the project")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"decks/imported.yaml:1: media file 'cards/imported/media/_font.woff' " \
                                            f"{why}", result.output


NFD, NFC = unicodedata.normalize("NFD", "café.png"), "café.png"
# Fields as Anki keeps them (what its editor, an add-on or an HTML edit can store) and files under any name a
# package can hold: the build must give each field and file back as it was.
CASES = {
    "slash before src": (['<img/src="a.png">', "x"], {"a.png": PNG}),
    "no space after a quoted value": (['<img alt="x"src="a.png">', "x"], {"a.png": PNG}),
    "upper case, unquoted": (["<IMG SRC=A.png>", "<img src=a.png/>"], {"A.png": b"upper", "a.png": PNG}),
    "src twice": (["<img src='a.png' src=\"b.png\">", "x"], {"a.png": PNG, "b.png": b"b"}),
    "< in a name": (['<img src="a<b.png">', '<img src="a&lt;b.png">'], {"a<b.png": b"lt"}),
    "sound name of 1,001 characters": (["[sound:" + "n" * 1001 + "]", "[sound:" + "m" * 200 + ".mp3]"],
                                       {"m" * 200 + ".mp3": b"ID3"}),
    "scripts and javascript: links": (['<a href="javascript:alert(1)">x</a> <a href="JaVa&#x09;script:x">y</a>',
                                       '<script>alert(1)</script><img src="a.png" onerror="alert(2)">'],
                                      {"a.png": PNG}),
    "%, #, ? and spaces": (['<img src="p%20q.png"> <img src="h#i.png"> <img src="q?r.png">',
                            '<img src="s t.png"> <img src="s%20t.png"> [sound:u%3Fv.mp3]'],
                           {"p%20q.png": b"pct", "h#i.png": b"hash", "q?r.png": b"qm", "s t.png": b"sp",
                            "u?v.mp3": b"ID3"}),
    "NFD and NFC": ([f'<img src="{NFD}">', f'<img src="{NFC}">'], {NFD: b"nfd", NFC: b"nfc"}),
    "device-like names": (['<img src="fifo"> <img src=CON> <img src="-"> <img src="|cat *">',
                           "[sound:nul] [sound:.hidden] [sound:.fifo.x1y2z3a4.tmp]"],
                          {"fifo": b"f", "CON": b"c", "-": b"d", "|cat *": b"p", "nul": b"n", ".hidden": b"h",
                           ".fifo.x1y2z3a4.tmp": b"t"}),
    "entities in names": (['<img src="a&amp;b.png"> <img src="a&amp;amp;b.png">', "x"],
                          {"a&b.png": b"and", "a&amp;b.png": b"amp"}),
}


def anki_package(col, tmp: Path, fields: list[str], media: dict[str, bytes]) -> Path:
    """A legacy package exported by Anki (one Basic note), its media map then given `media` under names Anki's
    own export would have normalised (as a package made by an older Anki, an add-on or by hand holds them)."""
    from anki.collection import DeckIdLimit, ExportAnkiPackageOptions

    note = col.new_note(col.models.by_name("Basic"))
    note.fields[:] = fields
    col.add_note(note, col.decks.id("Names"))
    exported = tmp / "exported.apkg"
    col.export_anki_package(out_path=str(exported), limit=DeckIdLimit(col.decks.id("Names")),
                            options=ExportAnkiPackageOptions(with_scheduling=True, with_media=False, legacy=True))
    path = tmp / "names.apkg"
    with zipfile.ZipFile(exported) as source, zipfile.ZipFile(path, "w") as target:
        for member in source.infolist():
            if member.filename != "media":
                target.writestr(member, source.read(member))
        target.writestr("media", json.dumps({str(i): name for i, name in enumerate(media)}))
        for i, data in enumerate(media.values()):
            target.writestr(str(i), data)
    return path


def learner_states(package: Path, update: Path | None = None, *, folder: Path) -> tuple[dict, dict, list]:
    """What a learner has after importing `package`, then after importing `update` over it (and its log)."""
    from anki.collection import Collection

    def state() -> dict:
        return {"notes": sorted(col.db.all("SELECT guid, mid, mod, tags, flds FROM notes")),
                "media": sorted((p.name, p.read_bytes()) for p in Path(col.media.dir()).iterdir())}

    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        import_apkg(col, package)
        before = state()
        log = import_apkg(col, update) if update else None
        return before, state(), log
    finally:
        col.close()


@pytest.mark.parametrize("case", sorted(CASES))
def test_any_way_of_naming_a_file_imports_exactly_and_packages_the_packages_files(empty_project, collection,
                                                                                   tmp_path, case):
    fields, media = CASES[case]
    apkg = anki_package(collection, tmp_path, fields, media)
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "1 note imported: each builds to its original fields, byte for byte" in result.output
    assert "verify: a build of the imported sources holds the package's 1 note exactly" in result.output
    check = run(empty_project, "check", "--strict")
    assert check.exit_code == 0 and all(": note: " in line for line in check.output.splitlines()), check.output
    assert_checks_and_builds(empty_project)
    assert built_media(empty_project) == sorted(media)
    built = empty_project.root / "dist/imported.apkg"
    before, after, log = learner_states(apkg, built, folder=tmp_path / "learner")
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert after == before
    if case != "NFD and NFC":  # one name to Anki, which keeps either file at random (said at import: below)
        assert learner_states(built, folder=tmp_path / "new")[0] == before


def test_names_one_file_on_windows_or_macos_are_said(empty_project, tmp_path):
    """`A.png` and `a.png`, or `café.png` in its two Unicode forms, are two files here but one on a file system
    that ignores case or Unicode form (Anki's Check Media renames one of them): each pair is said at import."""
    media = {"A.png": b"upper", "a.png": PNG, NFD: b"nfd", NFC: b"nfc", "B.png": b"alone"}
    fields = ['<img src="A.png"> <img src="a.png">', f'<img src="{NFD}"> <img src="{NFC}"> <img src="B.png">']
    apkg = package(tmp_path / "case.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, fields, "", 10)]),
                   media=media)
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "differ only in" in line]
    assert said == [f"{apkg}: warning: media files {a!r} and {b!r} differ only in letter case or Unicode form: a "
                    "file system that ignores them (Windows, macOS) keeps one file for both, and Anki's Check Media "
                    "renames one of them" for a, b in (("A.png", "a.png"), (NFD, NFC))]


def test_a_fresh_import_passes_check_strict_whatever_its_markdown_made_fields_link_to(empty_project, tmp_path):
    """Fields that look Markdown-made (`<p>…</p>`) become Markdown when that renders back exactly, but Markdown is
    linted: a field with a `javascript:` link or a resource on the network is written verbatim instead."""
    notes = [("g1", BASIC_ID, ['<p><a href="javascript:alert(1)">click</a></p>',
                               '<p>See <a href="https://example.org/">this</a></p>'], "", 10),
             ("g2", BASIC_ID, ['<p><img src="https://example.org/x.png" alt="x"></p>',
                               "<p>plain <strong>b</strong></p>"], "", 10),
             ("g3", BASIC_ID, ["<p>Made from <em>Markdown</em></p>", "<p>Yes</p>"], "", 10)]
    apkg = package(tmp_path / "md.apkg", collection_bytes(tmp_path, notes=notes))
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "3 notes imported: each builds to its original fields, byte for byte" in result.output
    check = run(empty_project, "check", "--strict")
    assert (check.exit_code, check.output) == (0, ""), check.output
    main = (empty_project.root / "cards/imported/main.md").read_text()
    assert "## Made from *Markdown*\n" in main and "\n\nplain **b**\n" in main  # the others stay Markdown


def test_a_field_naming_a_file_longer_than_a_file_name_can_be_imports(empty_project, tmp_path):
    """A name of over 255 bytes is no file on any file system: looking it up in the media folder raised 'File name
    too long' and the whole import was refused."""
    long = "x" * 300
    fields = [f'Long? <img src="{long}.png">', f"[sound:{long}.mp3]"]
    apkg = package(tmp_path / "long.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, fields, "", 10)]),
                   media={"a.png": PNG})
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "verify: a build of the imported sources holds the package's 1 note exactly" in result.output
    assert f"uses the media file '{long}.png', which the package lacks" in result.output
    assert_checks_and_builds(empty_project)


def test_verify_copies_no_fifo_of_the_project(empty_project, tmp_path):
    """--verify builds a copy of the project's note types: a FIFO among them (which no build reads) ended it with
    `cardsmith: [('templates/…', …, '… is a named pipe')]`."""
    os.mkfifo(empty_project.root / "templates/basic/notes.fifo")
    apkg = package(tmp_path / "one.apkg", collection_bytes(tmp_path))
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "verify: a build of the imported sources holds the package's 1 note exactly" in result.output


@pytest.mark.parametrize("name", ["bad\udcff.png", "\ud800.png"])
def test_a_media_name_that_is_not_unicode_is_left_out(empty_project, collection, tmp_path, name):
    """A legacy media map is JSON, which can hold a lone surrogate (`\\udcff`): written as the file `bad\\xff.png` (or
    a traceback), then packaged by the build under a name Anki's JSON reader refuses, so no learner could import
    the deck at all."""
    apkg = package(tmp_path / "bad.apkg", collection_bytes(tmp_path), media={name: PNG, "good.png": PNG})
    result = import_into(empty_project, apkg)
    assert result.exit_code == 0, result.output
    assert f"media file {name!r} left out: not a plain file name" in result.output
    assert_checks_and_builds(empty_project)
    assert built_media(empty_project) == ["good.png"]
    assert len(import_apkg(collection, empty_project.root / "dist/imported.apkg").new) == 1


def test_a_media_file_whose_name_is_not_utf8_is_refused_by_the_build(empty_project, tmp_path):
    """A file copied into the media folder from elsewhere (a Latin-1 name): the build packaged it under a name with
    a lone surrogate, and Anki refused the whole package ('lone leading surrogate in hex escape')."""
    apkg = package(tmp_path / "one.apkg", collection_bytes(tmp_path), media={"good.png": PNG})
    assert import_into(empty_project, apkg).exit_code == 0
    with open(os.fsencode(empty_project.root / "cards/imported/media") + b"/caf\xe9.png", "wb") as latin1:
        latin1.write(PNG)
    result = run(empty_project, "build")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "decks/imported.yaml:1: media file 'cards/imported/media/caf\\xe9.png': " \
                                            "file name is not valid UTF-8: rename the file", result.output


def test_a_media_file_named_like_a_temporary_file_is_exported(empty_project, tmp_path):
    """`.fifo.x1y2z3a4.tmp` is how cardsmith names a temporary file of `fifo`: writing `fifo` next to it removed it
    as a killed run's leftover, so the export's media folder lacked a file the package has."""
    names = {"fifo": b"f", ".fifo.x1y2z3a4.tmp": b"t", ".hidden.png.abcdefgh.tmp": b"h", "hidden.png": PNG}
    fields = ['<img src="fifo"> <img src="hidden.png">', "[sound:.fifo.x1y2z3a4.tmp] [sound:.hidden.png.abcdefgh.tmp]"]
    apkg = package(tmp_path / "tmp.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, fields, "", 10)]),
                   media=names)
    assert import_into(empty_project, apkg, "--verify").exit_code == 0
    for _ in range(2):  # the second time over the first one's files
        assert run(empty_project, "export", "--format", "csv").exit_code == 0
        exported = empty_project.root / "dist/imported-media"
        assert {p.name: p.read_bytes() for p in exported.iterdir()} == names
