"""`cardsmith import` of fields and media names that stress the rules for finding an image or sound (after the
merge with the trust fixes): however a field names a file, the build keeps the field byte for byte and packages
exactly the package's media files, under their names."""

from __future__ import annotations

from pathlib import Path

from cardsmith.anki.apkg import open_package
from test_import_hostile import (BASIC_ID, PNG, assert_checks_and_builds, collection_bytes, empty_project,  # noqa: F401
                                 import_into, package)


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
