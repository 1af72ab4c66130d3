"""A field written as `<!-- html -->` then its HTML is kept exactly as written, whatever its note type says (the
form `cardsmith pull` writes an edit made in Anki in, when no Markdown renders to that HTML)."""

from __future__ import annotations

from conftest import import_apkg

CARDS = """
## <!-- html --> What is <b>X</b>?
<!-- id: verbatim -->

<!-- html -->
<p>Line one<br>with $5 and \\(x\\)</p>
<div>  spaced  </div>

## Is Markdown still Markdown?
<!-- id: markdown -->

Yes, **bold** and $x$; the marker only counts at a field's start: <!-- html -->
"""


def test_a_field_starting_with_the_html_marker_is_kept_verbatim(project, collection):
    project.write({"cards/test/a.md": CARDS})
    project.build()
    log = import_apkg(collection, project.dist / "test.apkg")
    assert len(log.new) == 2
    notes = {collection.get_note(nid).fields[0]: collection.get_note(nid).fields for nid in collection.find_notes("")}
    assert notes["What is <b>X</b>?"][1] == '<p>Line one<br>with $5 and \\(x\\)</p>\n<div>  spaced  </div>'
    assert notes["<p>Is Markdown still Markdown?</p>"][1] == (
        "<p>Yes, <strong>bold</strong> and \\(x\\); the marker only counts at a field's start: <!-- html --></p>")


def test_check_does_not_lint_a_verbatim_field_as_markdown(project):
    project.write({"cards/test/a.md": CARDS})
    result = project.run("check", "--strict")
    assert result.exit_code == 0, result.output
