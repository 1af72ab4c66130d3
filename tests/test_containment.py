"""Issue 12, item 1: nothing from outside the project gets into a deck, a preview or an export.

Every attack is a small generated project next to a "secret" file outside it; each command must
refuse with `path:line: … is outside the project`, write nothing, and never copy the secret's bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from test_pipeline import PNG

SECRET = b"\x89PNG\r\n\x1a\nTOP-SECRET-" + os.urandom(8).hex().encode()
ALL_COMMANDS = (("build",), ("check",), ("export", "--format", "csv"), ("preview",))


@pytest.fixture
def secret(project) -> Path:
    """A file outside the project (next to its folder), that no command may read into an output."""
    path = project.root.parent / "secret.png"
    path.write_bytes(SECRET)
    return path


def card(image: str) -> str:
    return f"## What is in this picture?\n<!-- id: picture -->\n\n{image}\n"


def assert_refused(project, message: str) -> None:
    """Every command exits 1 with `message`, and no file of the project holds the secret."""
    for command in ALL_COMMANDS:
        result = project.run(*command)
        assert result.exit_code == 1, (command, result.output)
        assert message in result.output.splitlines(), (command, result.output)
    for path in project.root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET not in path.read_bytes(), path
    assert not (project.root / "dist").exists()


@pytest.mark.parametrize("written", [
    "![x](../../../../../../../../../../etc/passwd)",
    "![x](../../../secret.png)",                  # cards/test/a.md -> the project's parent folder
    "![x](..%2f..%2f..%2fsecret.png)",            # percent-encoded slashes
    "![x](%2e%2e/%2e%2e/%2e%2e/secret.png)",      # percent-encoded dots
    "![x]({secret})",                             # an absolute path
    '<img src="{secret}">',                       # raw HTML
    '<img alt="x" src="../../../secret.png">',
])
def test_images_outside_the_project_are_refused(project, secret, written):
    written = written.format(secret=secret)
    project.write({"cards/test/a.md": card(written)})
    src = written.split('src="')[-1].rstrip('">') if "<img" in written else written[5:-1]
    assert_refused(project, f"cards/test/a.md:4: image '{src}' is outside the project")


def test_symlinked_image_pointing_outside_is_refused(project, secret):
    project.write({"cards/test/a.md": card("![x](img/link.png)")})
    (project.root / "cards/test/img").mkdir()
    (project.root / "cards/test/img/link.png").symlink_to(secret)
    assert_refused(project, "cards/test/a.md:4: image 'img/link.png' is outside the project")


def test_symlinked_image_inside_the_project_is_packaged(project):
    """Links are followed, not forbidden: a link to a file of the project is that file."""
    project.write({"cards/test/a.md": card("![x](img/link.png)"), "media/dot.png": PNG})
    (project.root / "cards/test/img").mkdir()
    (project.root / "cards/test/img/link.png").symlink_to(project.root / "media/dot.png")
    result = project.build()
    assert "1 media" in result.output


def test_image_swapped_for_a_link_after_a_cached_build_is_refused(project, secret):
    """The render cache names the image it packaged: a hit is re-checked, not trusted."""
    secret.write_bytes(PNG)  # the same bytes: the content hash alone would not notice
    project.write({"cards/test/a.md": card("![x](img/dot.png)"), "cards/test/img/dot.png": PNG})
    project.build()
    image = project.root / "cards/test/img/dot.png"
    image.unlink()
    image.symlink_to(secret)
    for command in (("build",), ("check",)):
        result = project.run(*command)
        assert result.exit_code == 1, result.output
        assert "cards/test/a.md:4: image 'img/dot.png' is outside the project" in result.output


def test_symlinked_card_file_pointing_outside_is_refused(project, secret):
    outside = project.root.parent / "outside.md"
    outside.write_text(card("![x](secret.png)"), encoding="utf-8")
    project.write({"cards/test/a.md": "## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    (project.root / "cards/test/evil.md").symlink_to(outside)
    message = "cards/test/evil.md:1: card file 'cards/test/evil.md' is outside the project"
    assert_refused(project, message)
    check = project.run("check")
    assert "in no deck" not in check.output  # refused, not ignored


def test_symlinked_card_folder_pointing_outside_is_refused(project, secret):
    outside = project.root.parent / "elsewhere"
    outside.mkdir()
    (outside / "a.md").write_text(card("![x](../secret.png)"), encoding="utf-8")
    (project.root / "cards").mkdir()
    (project.root / "cards/test").symlink_to(outside)
    assert_refused(project, "cards/test/a.md:1: card file 'cards/test/a.md' is outside the project")


def test_note_type_template_outside_the_project_is_refused(project, secret):
    spec = project.root / "templates/basic/notetype.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("front: front.html", "front: ../../../secret.png"),
                    encoding="utf-8")
    line = next(n for n, text in enumerate(spec.read_text(encoding="utf-8").splitlines(), 1) if "secret" in text)
    project.write({"cards/test/a.md": "## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    assert_refused(project, f"templates/basic/notetype.yaml:{line}: template file '../../../secret.png' is outside "
                            "the project")


@pytest.mark.parametrize("css", ["templates/basic/style.css", "templates/base.css"])
def test_style_sheet_outside_the_project_is_refused(project, secret, css):
    project.write({"cards/test/a.md": "## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    (project.root / css).unlink(missing_ok=True)
    (project.root / css).symlink_to(secret)
    assert_refused(project, f"{css}:1: style sheet '{css}' is outside the project")


def test_note_type_folder_outside_the_project_is_refused(project, secret):
    outside = project.root.parent / "notetype"
    (project.root / "templates/basic").rename(outside)
    (project.root / "templates/basic").symlink_to(outside)
    project.write({"cards/test/a.md": "## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    assert_refused(project, "templates/basic/notetype.yaml:1: note type 'templates/basic/notetype.yaml' is outside "
                            "the project")


def test_project_reached_through_a_symlink_builds(project, tmp_path):
    """The boundary is the project's real folder: a project opened through a link is still inside itself."""
    project.write({"cards/test/a.md": card("![x](img/dot.png)"), "cards/test/img/dot.png": PNG})
    link = tmp_path / "link"
    link.symlink_to(project.root)
    from conftest import Project

    result = Project(link).build()
    assert "1 media" in result.output


def test_sound_outside_the_project_is_refused(project, secret):
    project.write({"cards/test/a.md": card("[sound:../../../secret.png]")})
    assert_refused(project, "cards/test/a.md:4: sound '../../../secret.png' is outside the project")


def test_latex_file_outside_the_project_is_refused(project, secret):
    spec = project.root / "templates/basic/notetype.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "latex: {preamble: ../../../secret.png}\n", encoding="utf-8")
    line = len(spec.read_text(encoding="utf-8").splitlines())
    project.write({"cards/test/a.md": "## What is a tensor?\n<!-- id: tensor -->\n\nAn array.\n"})
    assert_refused(project, f"templates/basic/notetype.yaml:{line}: LaTeX file '../../../secret.png' is outside the "
                            "project")


# However HTML lets a card write an image's source, one rule (render.media_source) finds it: it is packaged,
# or refused outside the project (a source it missed would silently break the image in Anki). Markdown escapes
# the last two forms (they show as text); a field of format `html` keeps them, and a browser loads them.
IMG_FORMS = ["<img src='{}'>", "<img src={}>", '<img src = "{}">', '<img alt="x" SRC="{}">', '<img/src="{}">',
             '<img alt="x"src="{}">', '<img alt="a<b" src="{}">', '<img title=\'<\' src="{}">']
VERBATIM = {
    "templates/verbatim/notetype.yaml": "id: 1700000501\nname: Verbatim\nfields:\n  - {name: Front, id: 1700000502}\n"
                                        "  - {name: Back, id: 1700000503, format: html}\ntemplates:\n"
                                        "  - {name: Card 1, id: 1700000504, front: front.html, back: back.html}\n",
    "templates/verbatim/front.html": "{{Front}}", "templates/verbatim/back.html": "{{FrontSide}}<hr>{{Back}}"}
IMG_CASES = [(form, False) for form in IMG_FORMS[:4]] + [(form, True) for form in IMG_FORMS]  # (form, in html)


def image_card(form: str, source: str, html: bool) -> str:
    return card(form.format(source)).replace("id: picture", "id: picture; type: verbatim" if html else "id: picture")


@pytest.mark.parametrize("form, html", IMG_CASES)
def test_an_image_written_any_way_is_packaged(project, form, html):
    project.write({"cards/test/a.md": image_card(form, "img/dot.png", html), "cards/test/img/dot.png": PNG, **VERBATIM})
    result = project.build()
    assert "1 media" in result.output, result.output
    from test_lock import package_notes

    (fields, _, _), = package_notes(project.dist / "test.apkg").values()
    assert "img/dot.png" not in fields and "dot-" in fields, fields


@pytest.mark.parametrize("form, html", IMG_CASES)
def test_an_image_written_any_way_outside_the_project_is_refused(project, secret, form, html):
    project.write({"cards/test/a.md": image_card(form, "../../../secret.png", html), **VERBATIM})
    assert_refused(project, "cards/test/a.md:4: image '../../../secret.png' is outside the project")


def test_an_image_whose_name_is_longer_than_a_file_name_can_be_is_not_found(project):
    """No file has a name of over 255 bytes: the lookup's 'File name too long' made it 'outside the project'."""
    long = "y" * 300
    project.write({"cards/test/a.md": card(f"![x](img/{long}.png) [sound:{long}.mp3]")})
    for command in ("build", "check"):
        lines = project.run(command).output.splitlines()
        assert f"cards/test/a.md:4: image not found: img/{long}.png" in lines, lines
        assert f"cards/test/a.md:4: sound not found: {long}.mp3" in lines, lines


# Anki counts the `src` (or `data`) of <img>, <audio>, <video>, <source> and <object> as a media file (its media
# check and its importer: rslib text.rs HTML_MEDIA_TAGS); a build packages and contains each one as an image.
MEDIA_TAGS = [('<audio controls src="{}"></audio>', "audio file"), ('<video src="{}"></video>', "video file"),
              ('<audio controls><source src="{}" type="audio/mpeg"></audio>', "media file"),
              ('<object data="{}"></object>', "media file")]


@pytest.mark.parametrize("form, what", MEDIA_TAGS)
def test_a_media_file_of_any_tag_anki_counts_is_packaged(project, form, what):
    project.write({"cards/test/a.md": image_card(form, "img/dot.png", True), "cards/test/img/dot.png": PNG, **VERBATIM})
    result = project.build()
    assert "1 media" in result.output, result.output
    from test_lock import package_notes

    (fields, _, _), = package_notes(project.dist / "test.apkg").values()
    assert "img/dot.png" not in fields and "dot-" in fields, fields


@pytest.mark.parametrize("form, what", MEDIA_TAGS)
def test_a_media_file_of_any_tag_outside_the_project_is_refused_and_a_missing_one_said(project, secret, form, what):
    project.write({"cards/test/a.md": image_card(form, "../../../secret.png", True), **VERBATIM})
    assert_refused(project, f"cards/test/a.md:4: {what} '../../../secret.png' is outside the project")
    project.write({"cards/test/a.md": image_card(form, "gone.mp3", True)})
    assert f"cards/test/a.md:4: {what} not found: gone.mp3" in project.run("build").output


@pytest.mark.parametrize("form, what", MEDIA_TAGS)
def test_a_media_file_written_with_character_references_is_said_on_its_line(project, form, what):
    """The message names the line of the tag, not of the field, however its name is written (`&#x67;`, `&amp;`)."""
    src = "&#x67;one&amp;.mp3"
    project.write({"cards/test/a.md": f"## Q?\n<!-- id: q -->\n\nA first line.\n\n{form.format(src)}\n"})
    assert f"cards/test/a.md:6: {what} not found: gone&.mp3" in project.run("build").output


def test_a_problem_in_a_long_question_is_said_on_its_own_line(project):
    """The question's text goes on below the id comment, which it leaves out: every line after the heading is one
    further down than the text says (render, check: FieldText.line_of)."""
    project.write({"cards/test/a.md": "## Q? ![h](gone-h.png)\n<!-- id: q -->\nmore\n<audio src=\"gone.mp3\"></audio>\n"
                                      "$x\n---\nA ![a](gone-a.png)\n"})
    lines = project.run("check").output.splitlines()
    assert {"cards/test/a.md:1: image not found: gone-h.png", "cards/test/a.md:4: audio file not found: gone.mp3",
            "cards/test/a.md:7: image not found: gone-a.png"} <= set(lines), lines
    assert any(line.startswith("cards/test/a.md:5: unclosed inline math") for line in lines), lines
