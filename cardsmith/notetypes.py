"""Note types: templates/<name>/ (notetype.yaml, *.html, style.css) -> NoteType.

Model, field and template ids are fixed integers declared in notetype.yaml, so that Anki
matches the note type on every import and template or CSS edits update it in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import genanki
from pygments.formatters import HtmlFormatter

from .boundary import Boundary, outside
from .errors import BuildError, Problem, display_path
from .yamlfile import line_of, load_yaml, read_text

DAY_CODE_STYLE = "default"
NIGHT_CODE_STYLE = "github-dark"
NOTETYPE_KEYS = ("id", "name", "kind", "fields", "templates")
KINDS = {"standard": genanki.Model.FRONT_BACK, "cloze": genanki.Model.CLOZE}


@dataclass(frozen=True)
class NoteType:
    """A note type ready for genanki: fixed ids, field names, templates and CSS."""

    key: str  # folder name in templates/, used as `type:` in card files
    model_id: int
    name: str
    kind: str
    fields: tuple[dict, ...]
    templates: tuple[dict, ...]
    css: str

    @property
    def is_cloze(self) -> bool:
        """Cloze notes: one card per deletion in the first field, whose answer (Extra) may be empty."""
        return self.kind == "cloze"

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def content_hash(self) -> str:
        """Hash of everything Anki stores for the note type (to know when it changed)."""
        data = [self.model_id, self.name, self.kind, self.fields, self.templates, self.css]
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def schema(self) -> dict:
        """What Anki treats as the note type's schema: its fields and templates (ids and names)."""
        return {"fields": [[f["id"], f["name"]] for f in self.fields],
                "templates": [[t["id"], t["name"]] for t in self.templates]}

    def to_model(self) -> genanki.Model:
        return genanki.Model(
            self.model_id, self.name,
            fields=[dict(f) for f in self.fields],
            templates=[dict(t) for t in self.templates],
            css=self.css, model_type=KINDS[self.kind])


def code_css() -> str:
    """Pygments CSS for day mode and, scoped under Anki's night-mode classes, night mode."""
    day = HtmlFormatter(style=DAY_CODE_STYLE).get_style_defs(".highlight")
    night_scopes = [".nightMode .highlight", ".night_mode .highlight"]
    night = HtmlFormatter(style=NIGHT_CODE_STYLE).get_style_defs(night_scopes)
    return f"/* Code highlighting (Pygments {DAY_CODE_STYLE} / {NIGHT_CODE_STYLE}) */\n{day}\n{night}\n"


def base_css(root: Path) -> str:
    """The CSS shared by every note type (and the preview): templates/base.css + code CSS."""
    base = root / "templates" / "base.css"
    problems: list[Problem] = []
    text = _read(base, display_path(base, root), Boundary(root), "style sheet", problems) if base.is_file() else ""
    if problems:
        raise BuildError(problems)
    return (text or "") + "\n" + code_css()


def load_notetypes(root: Path) -> dict[str, NoteType]:
    """Load every templates/<name>/notetype.yaml; raise BuildError listing all problems."""
    problems: list[Problem] = []
    result: dict[str, NoteType] = {}
    try:
        shared_css = base_css(root)
    except BuildError as error:
        problems += error.problems
        shared_css = ""
    boundary = Boundary(root)
    for folder in sorted((root / "templates").glob("*/")):
        spec = folder / "notetype.yaml"
        if spec.exists():
            notetype, found = _load(folder, spec, root, boundary, shared_css)
            problems += found
            if notetype:
                result[notetype.key] = notetype
    ids: dict[int, str] = {}
    for notetype in result.values():
        other = ids.setdefault(notetype.model_id, notetype.key)
        if other != notetype.key:
            problems.append(Problem(f"templates/{notetype.key}/notetype.yaml", 1,
                                    f"note type id {notetype.model_id} is also used by templates/{other}"))
    if problems:
        raise BuildError(problems)
    return result


def _read(path: Path, shown: str, boundary: Boundary, what: str, problems: list[Problem]) -> str | None:
    """A note type's file, or None with a problem when it is outside the project or not readable text."""
    if not boundary.contains(path):
        problems.append(Problem(shown, 1, outside(what, shown)))
        return None
    return read_text(path, shown, problems)


def _load(folder: Path, spec: Path, root: Path, boundary: Boundary,
          shared_css: str) -> tuple[NoteType | None, list[Problem]]:
    shown = display_path(spec, root)
    problems: list[Problem] = []
    text = _read(spec, shown, boundary, "note type", problems)
    if text is None:
        return None, problems
    data, problems = load_yaml(text, shown)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(shown, 1, "notetype.yaml must be a mapping with keys: " + ", ".join(NOTETYPE_KEYS))]
    for key in data:
        if key not in NOTETYPE_KEYS:
            problems.append(Problem(shown, line_of(data, str(key)),
                                    f"unknown key '{key}' (valid keys: {', '.join(NOTETYPE_KEYS)})"))
    model_id, name, kind = data.get("id"), data.get("name"), data.get("kind", "standard")
    if not isinstance(model_id, int) or isinstance(model_id, bool) or model_id <= 0:
        problems.append(Problem(shown, line_of(data, "id"), "'id' must be a fixed positive integer"))
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(shown, line_of(data, "name"), "'name' must be a non-empty string"))
    if not isinstance(kind, str) or kind not in KINDS:
        problems.append(Problem(shown, line_of(data, "kind"), f"'kind' must be one of: {', '.join(KINDS)}"))
    fields = []
    for item in _items(data.get("fields")):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("id"), int):
            problems.append(Problem(shown, line_of(data, "fields"), "each field needs a 'name' and a fixed integer 'id'"))
            continue
        fields.append({"name": item["name"], "id": item["id"]})
    if not fields:
        problems.append(Problem(shown, line_of(data, "fields"), "'fields' must list at least one field"))
    templates = []
    for item in _items(data.get("templates")):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "front", "back")) \
                or not isinstance(item.get("id"), int):
            problems.append(Problem(shown, line_of(data, "templates"),
                                    "each template needs 'name', a fixed integer 'id', 'front' and 'back' (file names)"))
            continue
        sides = {}
        for side in ("front", "back"):
            html_path = folder / item[side]
            if not boundary.contains(html_path):
                problems.append(Problem(shown, line_of(item, side), outside("template file", item[side])))
            elif not html_path.is_file():
                problems.append(Problem(shown, line_of(item, side), f"template file {display_path(html_path, root)} not found"))
            elif (html := read_text(html_path, display_path(html_path, root), problems)) is not None:
                sides[side] = html
        if len(sides) == 2:
            templates.append({"name": item["name"], "id": item["id"], "qfmt": sides["front"], "afmt": sides["back"]})
    if not templates:
        problems.append(Problem(shown, line_of(data, "templates"), "'templates' must list at least one card template"))
    if problems:
        return None, problems
    style = folder / "style.css"
    own_css = _read(style, display_path(style, root), boundary, "style sheet", problems) if style.is_file() else ""
    if own_css is None:
        return None, problems
    css = shared_css + ("\n" + own_css if style.is_file() else "")
    return NoteType(folder.name, model_id, name.strip(), kind, tuple(fields), tuple(templates), css), []


def _items(value: object) -> list:
    """A YAML list, or [] for anything else (the caller reports the missing entries)."""
    return value if isinstance(value, list) else []
