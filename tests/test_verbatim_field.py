"""A field in raw form (rawform.py: a ```{=html} block, or a heading ending in {=html}) is its HTML byte for byte,
whatever its note type says: the form `cardsmith pull` writes an edit made in Anki in when no Markdown renders to
exactly that HTML (the form `cardsmith import` keeps HTML in)."""

from __future__ import annotations

from conftest import import_apkg

CARDS = """
## What is <b>X</b>? {=html}
<!-- id: verbatim -->

```{=html}
 <p>Line one<br>with $5 and \\(x\\)</p>
## not a card, ```not a fence end
```

## Is Markdown still Markdown?
<!-- id: markdown -->

Yes, **bold** and $x$; {=html} counts only as a field's whole form.
"""


def test_a_field_in_raw_form_is_kept_byte_for_byte(project, collection):
    project.write({"cards/test/a.md": CARDS})
    project.build()
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.new) == 2
    notes = {collection.get_note(nid).fields[0]: collection.get_note(nid).fields for nid in collection.find_notes("")}
    assert notes["What is <b>X</b>?"][1] == ' <p>Line one<br>with $5 and \\(x\\)</p>\n## not a card, ```not a fence end'
    assert notes["<p>Is Markdown still Markdown?</p>"][1] == (
        "<p>Yes, <strong>bold</strong> and \\(x\\); {=html} counts only as a field's whole form.</p>")


def test_check_does_not_lint_a_field_in_raw_form(project):
    project.write({"cards/test/a.md": CARDS})
    result = project.run("check", "--strict")
    assert result.exit_code == 0, result.output
