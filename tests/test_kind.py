"""Issue 12, item 9: a note type's declared `kind` decides cloze-ness everywhere, never its folder name."""

from __future__ import annotations

import shutil

from conftest import import_apkg


def add_notetype(project, folder: str, kind: str, model_id: int) -> None:
    """templates/<folder>/: a copy of the cloze note type with its own ids, name and `kind`."""
    target = project.root / "templates" / folder
    shutil.copytree(project.root / "templates" / "cloze", target)
    spec = target / "notetype.yaml"
    text = spec.read_text(encoding="utf-8").replace("id: 1873558618", f"id: {model_id}")
    text = text.replace("name: cardsmith Cloze", f"name: {folder}").replace("kind: cloze", f"kind: {kind}")
    for old in ("1719748158782754", "3239712966947311", "1466668145598019"):
        text = text.replace(old, str(int(old) + model_id))
    spec.write_text(text, encoding="utf-8")


def test_cloze_kind_in_a_folder_not_named_cloze(project, collection):
    add_notetype(project, "fill-in", "cloze", 1900000001)
    project.write({"cards/test/a.md": """
        ## The capital of France is {{c1::Paris}}.
        <!-- id: capital; type: fill-in -->
        """})
    result = project.build()  # an empty answer (the Extra field) is fine for a cloze note
    assert "1 card, 1 note" in result.output
    import_apkg(collection, project.dist / "test.apkg")
    card = collection.get_card(collection.find_cards("")[0])
    assert "[...]" in card.question() and "Paris" in card.answer()

    project.write({"cards/test/a.md": """
        ## What is the capital of France?
        <!-- id: capital; type: fill-in -->

        Paris.
        """})
    message = "cards/test/a.md:1: cloze card has no deletion: mark the hidden part as {{c1::...}}"
    for command in (("check", "--strict"), ("build",), ("export", "--format", "csv")):
        result = project.run(*command)
        assert result.exit_code == 1, (command, result.output)
        assert message in result.output.splitlines(), (command, result.output)


def test_standard_kind_in_a_folder_named_like_cloze(project):
    add_notetype(project, "not-cloze", "standard", 1900000002)
    project.write({"cards/test/a.md": """
        ## The capital of France is {{c1::Paris}}.
        <!-- id: capital; type: not-cloze -->
        """})
    for command in (("check",), ("build",)):
        result = project.run(*command)
        assert result.exit_code == 1, (command, result.output)
        assert "cards/test/a.md:3: empty answer" in result.output.splitlines(), (command, result.output)


def test_handout_reveals_deletions_by_kind(project):
    add_notetype(project, "fill-in", "cloze", 1900000001)
    add_notetype(project, "anticloze", "standard", 1900000002)
    project.write({"cards/test/a.md": """
        ## The capital of France is {{c1::Paris}}.
        <!-- id: capital; type: fill-in -->

        ## Literal {{c1::braces}} in a basic card?
        <!-- id: literal; type: anticloze -->

        Shown as typed.
        """})
    assert project.run("export", "--format", "markdown").exit_code == 0
    text = (project.dist / "test.md").read_text(encoding="utf-8")
    assert "### The capital of France is **Paris**." in text
    assert "### Literal {{c1::braces}} in a basic card?" in text


def test_kind_changed_after_a_cached_build_is_checked_again(project):
    """A card file the cache holds built is re-checked when its note type's kind no longer fits it."""
    add_notetype(project, "fill-in", "standard", 1900000001)
    project.write({"cards/test/a.md": """
        ## What is the capital of France?
        <!-- id: capital; type: fill-in -->

        Paris.
        """})
    project.build()
    spec = project.root / "templates/fill-in/notetype.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("kind: standard", "kind: cloze"), encoding="utf-8")
    result = project.run("build")
    assert result.exit_code == 1, result.output
    assert "cards/test/a.md:1: cloze card has no deletion: mark the hidden part as {{c1::...}}" in result.output
