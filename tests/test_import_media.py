"""`cardsmith import` of fields and media names that stress the rules for finding an image or sound (after the
merge with the trust fixes): however a field names a file, the build keeps the field byte for byte and packages
exactly the package's media files, under their names."""

from __future__ import annotations

import io
import os

import pytest

from cardsmith.anki.apkg import open_package
from test_import_hostile import (BASIC_ID, PNG, assert_checks_and_builds, collection_bytes, empty_project,  # noqa: F401
                                 import_into, package, run)


def built_media(project, deck: str = "imported") -> list[str]:
    with open_package(project.root / "dist" / f"{deck}.apkg") as made:
        return sorted(made.media)


def test_a_path_the_package_lacks_is_never_found_beside_the_cards(empty_project, tmp_path):
    """Anki's media folder is flat: `media/x.png` or `main.md` name no file of the package, so the build must not
    find them under the deck's folder (the media folder itself, a card file) and rewrite the field."""
    fields = ['<img src="media/x.png"> <img src="../imported/media/x.png">',
              '<img src="main.md"> [sound:../../decks/imported.yaml]']
    apkg = package(tmp_path / "paths.apkg", collection_bytes(tmp_path, notes=[("g", BASIC_ID, fields, "", 10)]),
                   media={"x.png": PNG})
    result = import_into(empty_project, apkg, "--verify")
    assert result.exit_code == 0, result.output
    assert "verify: a build of the imported sources holds the package's 1 notes exactly" in result.output
    for name in ("media/x.png", "../imported/media/x.png", "main.md", "../../decks/imported.yaml"):
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
    assert "verify: a build of the imported sources holds the package's 1 notes exactly" in result.output
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
