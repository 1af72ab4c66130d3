"""The package's note types -> templates/anki-<name>/ folders keeping everything Anki stores of them.

Ids (note type, fields, templates), names, the templates' HTML (and the browser's), the CSS byte for
byte (`base_css: false`), LaTeX preamble and postamble, the sort field and every field option: a build
writes the note type Anki has, so the learners' copy is never changed by a first release. A note type
the project has already (same id or name) is refused, or with --merge used when its fields and
templates are the same.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml

from ..anki.apkg import AnkiNoteType, AnkiPackage
from ..errors import BuildError, Problem
from ..notetypes import LATEX_POSTAMBLE, LATEX_PREAMBLE, RELEASED_FIELD_OPTIONS, NoteType, load_notetypes
from ..parse import slug
from .htmlmd import markdown_candidate
from .stage import Stage

HEADER = ("# Imported from Anki: the ids are the original ones, so that builds update the notes learners\n"
          "# already have. Keep them; the HTML, style.css and options may change (learners get the change).\n")


def existing_notetypes(root: Path) -> dict[str, NoteType]:
    """The project's note types (an import is checked against them)."""
    if not any((root / "templates").glob("*/notetype.yaml")):
        return {}
    try:
        return load_notetypes(root)
    except BuildError as error:
        raise BuildError(error.problems + [Problem("templates", 0, "the project's note types have errors: "
                                                   "`import` checks the new ones against them, so fix these first")])


def notetype_keys(data: AnkiPackage, root: Path, known: dict[str, NoteType], merge: bool, force: bool,
                  stage: Stage) -> dict[int, str]:
    """Each note type the notes use -> its folder in templates/ (staged, or the project's own with --merge); with
    --force, a folder of the same note type (by id) is written again, as the package has it."""
    by_id = {nt.model_id: nt for nt in known.values()}
    by_name = {nt.name: nt for nt in known.values()}
    keys: dict[int, str] = {}
    problems = []
    for model_id in sorted({n.notetype_id for n in data.notes}):
        model = data.notetypes[model_id]
        other = by_id.get(model_id) or by_name.get(model.name)
        if other is not None and force and other.model_id == model_id:
            keys[model_id] = other.key  # imported again over its own files
            _write(model, [n.fields for n in data.notes if n.notetype_id == model_id], root / "templates" / other.key,
                   stage)
            continue
        if other is not None:
            if merge and other.model_id == model_id and other.schema() == _schema(model):
                keys[model_id] = other.key
                _stage_context(root, other.key, stage)
                continue
            why = ("--merge uses it only when its fields and templates are the package's, and they are not"
                   if merge and other.model_id == model_id else
                   "two note types of one name would be renamed in a learner's Anki" if other.model_id != model_id
                   else "to use it for these notes (its fields and templates are the same), pass --merge; to write it "
                   "again as the package has it, --force")
            problems.append(Problem(f"templates/{other.key}/notetype.yaml", 1, (
                f"the project has the note type '{other.name}' (id {other.model_id}) already, and the package's "
                f"'{model.name}' (id {model_id}) would be the same in Anki: {why}")))
            continue
        keys[model_id] = key = _key(model, root, set(keys.values()))
        _write(model, [n.fields for n in data.notes if n.notetype_id == model_id], root / "templates" / key, stage)
    if problems:
        raise BuildError(problems)
    return keys


def _schema(model: AnkiNoteType) -> dict:
    """What notetypes.NoteType.schema says of the note type the import would write."""
    return {"fields": [[f.field_id or _derived_id(model.notetype_id, 100 + i), f.name]
                       for i, f in enumerate(model.fields)],
            "templates": [[t.template_id or _derived_id(model.notetype_id, i + 1), t.name]
                          for i, t in enumerate(model.templates)]}


def _stage_context(root: Path, key: str, stage: Stage) -> None:
    """A project note type the import uses, copied where the staged cards are read back (not written again)."""
    target = stage.location(root / "templates" / key / "notetype.yaml").parent
    shutil.copytree(root / "templates" / key, target, dirs_exist_ok=True)
    base = root / "templates" / "base.css"
    if base.is_file() and not stage.location(base).exists():
        shutil.copyfile(base, stage.location(base))


def _key(model: AnkiNoteType, root: Path, taken: set[str]) -> str:
    """A new folder name in templates/: anki-<name>."""
    base = "anki-" + (slug(model.name) or "notetype")
    key, number = base, 2
    while key in taken or os.path.lexists(root / "templates" / key):
        key, number = f"{base}-{number}", number + 1
    return key


def _derived_id(model_id: int, index: int) -> int:
    """An id for a field or template the package gives none (Anki before 2.1.28 had none)."""
    return (model_id * 1000 + index) % (1 << 62) or index


def _format(values: list[str]) -> str:
    """`markdown` when most filled values of a field have a Markdown candidate (a deck made from Markdown), else
    `html` (a deck made in Anki: its HTML is kept as written)."""
    filled = [value for value in values if value.strip()]
    candidates = sum(1 for value in filled if markdown_candidate(value))
    return "markdown" if filled and candidates * 2 > len(filled) else "html"


def _write(model: AnkiNoteType, notes: list[tuple[str, ...]], folder: Path, stage: Stage) -> None:
    fields = []
    for number, field in enumerate(model.fields):
        item: dict = {"name": field.name, "id": field.field_id or _derived_id(model.notetype_id, 100 + number),
                      "format": _format([values[number] for values in notes])}
        options = {"font": field.font, "size": field.size, "rtl": field.rtl, "description": field.description,
                   "plain_text": field.plain_text, "collapsed": field.collapsed,
                   "exclude_from_search": field.exclude_from_search, "sticky": field.sticky}
        item.update({k: v for k, v in options.items() if v != RELEASED_FIELD_OPTIONS[k]})
        fields.append(item)
    templates = []
    for number, template in enumerate(model.templates, 1):
        item = {"name": template.name, "id": template.template_id or _derived_id(model.notetype_id, number)}
        for name, text in (("front", template.front), ("back", template.back),
                           ("browser_front", template.browser_front), ("browser_back", template.browser_back)):
            if text or name in ("front", "back"):
                item[name] = f"card{number}-{name.replace('_', '-')}.html"
                stage.write_text(folder / item[name], text)
        if template.browser_font:
            item["browser_font"] = template.browser_font
        if template.browser_size:
            item["browser_size"] = template.browser_size
        templates.append(item)
    spec: dict = {"id": model.notetype_id, "name": model.name, "kind": "cloze" if model.cloze else "standard"}
    if 0 < model.sort_field < len(model.fields):
        spec["sort_field"] = model.fields[model.sort_field].name
    if model.stock_kind:
        spec["stock_kind"] = model.stock_kind
    spec.update({"fields": fields, "templates": templates, "base_css": False})
    latex = {}
    for name, text, default in (("preamble", model.latex_pre, LATEX_PREAMBLE),
                                ("postamble", model.latex_post, LATEX_POSTAMBLE)):
        if text is not None and text != default:
            latex[name] = f"{name}.tex"
            stage.write_text(folder / latex[name], text)
    if model.latex_svg:
        latex["svg"] = True
    if latex:
        spec["latex"] = latex
    stage.write_text(folder / "notetype.yaml", HEADER + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True,
                                                                       width=1 << 30))
    stage.write_text(folder / "style.css", model.css)
