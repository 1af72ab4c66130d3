"""Note types: templates/<name>/ (notetype.yaml, the templates' HTML, style.css, LaTeX files) -> NoteType.

Model, field and template ids are fixed integers declared in notetype.yaml, so that Anki matches the
note type on every import and template or CSS edits update it in place. Field options are Anki's
(with Anki's defaults when absent); `format` is cardsmith's: how a field's text becomes its HTML.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pygments.formatters import HtmlFormatter

from . import cardgen
from .boundary import Boundary, outside
from .cardgen import CardRule, TemplateError
from .errors import BuildError, Problem, display_path
from .schema import Invalid, Key, boolean, each, integer, nonempty_string, one_of, read_mapping, string
from .yamlfile import LineDict, line_of, load_yaml, read_text

DAY_CODE_STYLE = "default"
NIGHT_CODE_STYLE = "github-dark"
KINDS = ("standard", "cloze")
FORMATS = ("markdown", "html")
# Anki's LaTeX header and footer for a new note type (the same as genanki's).
LATEX_PREAMBLE = ("\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
                  "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n"
                  "\\begin{document}\n")
LATEX_POSTAMBLE = "\\end{document}"
# What every note type released before field options existed carried (genanki's defaults): a note type
# whose options are these hashes as it did then, so that its lock record does not change.
RELEASED_FIELD_OPTIONS = {"font": "Liberation Sans", "size": 20, "rtl": False, "description": "",
                          "plain_text": False, "collapsed": False, "exclude_from_search": False, "sticky": False}
FIELD_NAME_FORBIDDEN = set(':{}"')
ID_RANGE = (-(1 << 63), 1 << 63)  # Anki's ids are signed 64-bit integers


@dataclass(frozen=True)
class FieldSpec:
    """One field: its name and fixed id, how its text becomes HTML, and Anki's options for its editor."""

    name: str
    id: int
    format: str = "markdown"  # or "html": the text is the field's HTML, kept verbatim
    font: str = "Liberation Sans"  # what every cardsmith note type has carried (genanki's default)
    size: int = 20
    rtl: bool = False
    description: str = ""
    plain_text: bool = False  # Anki's editor opens it as HTML
    collapsed: bool = False  # Anki's editor shows it collapsed
    exclude_from_search: bool = False  # a search without a field name does not look in it
    sticky: bool = False  # Anki's Add window keeps its last input


@dataclass(frozen=True)
class TemplateSpec:
    """One card template: its name, fixed id, the HTML of its front and back (and of its browser columns)."""

    name: str
    id: int
    front: str
    back: str
    browser_front: str = ""  # empty: Anki's browser shows the card's own sides
    browser_back: str = ""
    browser_font: str = ""
    browser_size: int = 0


@dataclass(frozen=True)
class Latex:
    """What Anki desktop wraps around `[latex]…[/latex]` (and `[$]`, `[$$]`) to make their images."""

    preamble: str = LATEX_PREAMBLE
    postamble: str = LATEX_POSTAMBLE
    svg: bool = False


@dataclass(frozen=True)
class NoteType:
    """A note type as Anki stores it, with the rule that says which cards a note of it gets."""

    key: str  # folder name in templates/, used as `type:` in card files
    model_id: int
    name: str
    kind: str
    fields: tuple[FieldSpec, ...]
    templates: tuple[TemplateSpec, ...]
    css: str
    sort_field: int = 0  # the index of the field Anki's browser sorts by
    latex: Latex = Latex()
    stock_kind: int = 0  # Anki's originalStockKind: the stock note type it was made from (Image Occlusion: 6)
    rule: CardRule = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.rule is None:  # made here when a NoteType is built by hand (the loader checks the templates)
            object.__setattr__(self, "rule", cardgen.card_rule(self.field_names, [t.front for t in self.templates],
                                                               self.is_cloze))

    @property
    def is_cloze(self) -> bool:
        """Cloze notes: one card per deletion number; its deletions belong in its cloze fields."""
        return self.kind == "cloze"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def card_name(self, ordinal: int) -> str:
        """How a learner knows a note's card: its deletion (`c2`) for a cloze type, else its template's name."""
        if self.is_cloze:
            return f"c{ordinal + 1}"
        return self.templates[ordinal].name if ordinal < len(self.templates) else f"card {ordinal + 1}"

    def content_hash(self) -> str:
        """Hash of everything Anki stores for the note type (to know when it changed)."""
        data: list[Any] = [self.model_id, self.name, self.kind, [{"name": f.name, "id": f.id} for f in self.fields],
                           [{"name": t.name, "id": t.id, "qfmt": t.front, "afmt": t.back} for t in self.templates],
                           self.css]
        options = self._options()
        if options:  # only then: a note type released before options existed keeps its hash
            data.append(options)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def _options(self) -> dict:
        """What this note type stores beyond what every note type released before field options stored."""
        options: dict[str, Any] = {}
        fields = [{k: getattr(f, k) for k, v in RELEASED_FIELD_OPTIONS.items() if getattr(f, k) != v}
                  for f in self.fields]
        if any(fields):
            options["fields"] = fields
        if self.sort_field:
            options["sort_field"] = self.sort_field
        if self.latex != Latex():
            options["latex"] = [self.latex.preamble, self.latex.postamble, self.latex.svg]
        browser = [[t.browser_front, t.browser_back, t.browser_font, t.browser_size] for t in self.templates]
        if any(row != ["", "", "", 0] for row in browser):
            options["browser"] = browser
        if self.stock_kind:
            options["stock_kind"] = self.stock_kind
        return options

    def schema(self) -> dict:
        """What Anki treats as the note type's schema: its fields and templates (ids and names)."""
        return {"fields": [[f.id, f.name] for f in self.fields],
                "templates": [[t.id, t.name] for t in self.templates]}


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
    text = _read(base, display_path(base, root), Boundary(root), "style sheet", problems) if _there(base) else ""
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


def _there(path: Path) -> bool:
    """Whether there is something at `path` (a FIFO, a device or a dangling symlink too: reading it says why not)."""
    return path.exists() or path.is_symlink()


def _file(folder: Path, root: Path, boundary: Boundary, what: str) -> Callable[[Any], str]:
    """A check for a key naming a file in the note type's folder: the file's text."""
    def check(name: Any) -> str:
        if not isinstance(name, str) or not name.strip():
            raise Invalid("must be a file name in the note type's folder")
        path = folder / name
        if not boundary.contains(path):
            raise Invalid(outside(what, name))
        if not path.is_file():
            raise Invalid(f"{what} {display_path(path, root)} not found")
        problems: list[Problem] = []
        text = read_text(path, display_path(path, root), problems)
        if text is None:
            raise Invalid(*problems)
        return text
    return check


def _keys(folder: Path, root: Path, boundary: Boundary, shown: str) -> dict[str, Key]:
    """notetype.yaml's schema (its file checks read from the note type's folder)."""
    field_keys = {
        "name": Key("the field's name (a `### Name` line in a card starts it)", _field_name, required=True),
        "id": Key("a fixed integer id, chosen once", integer("a fixed integer from -2**63 to 2**63 - 1 (Anki's ids are 64-bit)", *ID_RANGE), required=True),
        "format": Key("`markdown` (default) or `html` (the text is the field's HTML, kept verbatim)",
                      one_of(*FORMATS), default="markdown"),
        "font": Key("the editor's font for the field in Anki (default Liberation Sans; empty: Anki's)", string,
                    default="Liberation Sans"),
        "size": Key("the editor's font size (default 20)", integer("a positive integer"), default=20),
        "rtl": Key("whether the field is written right to left (default false)", boolean, default=False),
        "description": Key("the hint Anki's editor shows in the empty field", string, default=""),
        "plain_text": Key("whether Anki's editor opens the field as HTML (default false)", boolean, default=False),
        "collapsed": Key("whether Anki's editor shows the field collapsed (default false)", boolean, default=False),
        "exclude_from_search": Key("whether a search without a field name skips the field (default false)", boolean,
                                   default=False),
        "sticky": Key("whether Anki's Add window keeps the field's last input (default false)", boolean,
                      default=False),
    }
    template_keys = {
        "name": Key("the card template's name", nonempty_string, required=True),
        "id": Key("a fixed integer id, chosen once", integer("a fixed integer from -2**63 to 2**63 - 1 (Anki's ids are 64-bit)", *ID_RANGE), required=True),
        "front": Key("the HTML file of the card's front", _file(folder, root, boundary, "template file"), required=True),
        "back": Key("the HTML file of the card's back", _file(folder, root, boundary, "template file"), required=True),
        "browser_front": Key("an HTML file for the question column of Anki's browser", _file(
            folder, root, boundary, "template file"), default=""),
        "browser_back": Key("an HTML file for the answer column of Anki's browser", _file(
            folder, root, boundary, "template file"), default=""),
        "browser_font": Key("the font of Anki's browser columns", string, default=""),
        "browser_size": Key("the font size of Anki's browser columns (0: the default)", integer("a whole number", 0),
                            default=0),
    }
    latex_keys = {
        "preamble": Key("a file with the LaTeX before each [latex] (default: Anki's)",
                        _file(folder, root, boundary, "LaTeX file"), default=None),
        "postamble": Key("a file with the LaTeX after it (default: \\end{document})",
                         _file(folder, root, boundary, "LaTeX file"), default=None),
        "svg": Key("whether Anki makes SVG images rather than PNG (default false)", boolean, default=False),
    }

    def listed(keys: dict[str, Key], empty: str) -> Callable[[Any], list[dict]]:
        items = each(keys, shown)

        def check(value: Any) -> list[dict]:
            found = items(value)
            if not isinstance(value, list) or not value:
                raise Invalid(empty)
            return found
        return check

    def latex(value: Any) -> Latex:
        if value is None:
            return Latex()
        if not isinstance(value, LineDict):
            raise Invalid(f"must be a mapping with keys: {', '.join(latex_keys)}")
        values, problems = read_mapping(value, latex_keys, shown, missing_line=value.line)
        if problems:
            raise Invalid(*problems)
        return Latex(values["preamble"] if values["preamble"] is not None else LATEX_PREAMBLE,
                     values["postamble"] if values["postamble"] is not None else LATEX_POSTAMBLE, values["svg"])

    return {
        "id": Key("the note type's fixed id, chosen once", integer("a fixed positive integer below 2**63 (Anki's ids are 64-bit)"),
                  required=True),
        "name": Key("its name in Anki", nonempty_string, required=True),
        "kind": Key("`standard` or `cloze`", one_of(*KINDS), default="standard"),
        "fields": Key("its fields, in order", listed(field_keys, "must list at least one field"), required=True),
        "templates": Key("its card templates", listed(template_keys, "must list at least one card template"),
                         required=True),
        "sort_field": Key("the field Anki's browser sorts by (default the first)", nonempty_string, default=None),
        "latex": Key("LaTeX for Anki's [latex] images: preamble and postamble files, svg", latex, default=Latex()),
        "base_css": Key("whether templates/base.css goes before style.css (default true)", boolean, default=True),
        "stock_kind": Key("Anki's originalStockKind: the stock note type this one was made from (Image Occlusion "
                          "needs 6)", integer("a whole number", 0), default=0),
    }


def _field_name(value: Any) -> str:
    name = nonempty_string(value)
    if FIELD_NAME_FORBIDDEN & set(name) or name[0] in "#/^":
        raise Invalid("must not hold `:`, `{`, `}` or `\"`, nor start with `#`, `/` or `^` (Anki's template syntax)")
    return name


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
    keys = _keys(folder, root, boundary, shown)
    if not isinstance(data, dict):
        return None, [Problem(shown, 1, "notetype.yaml must be a mapping with keys: " + ", ".join(keys))]
    values, problems = read_mapping(data, keys, shown)
    if problems:
        return None, problems
    fields = tuple(FieldSpec(f["name"], f["id"], f["format"], f["font"], f["size"], f["rtl"], f["description"],
                             f["plain_text"], f["collapsed"], f["exclude_from_search"], f["sticky"])
                   for f in values["fields"])
    templates = tuple(TemplateSpec(t["name"], t["id"], t["front"], t["back"], t["browser_front"], t["browser_back"],
                                   t["browser_font"], t["browser_size"]) for t in values["templates"])
    names = [f.name for f in fields]
    problems = _twice(fields, "field", shown, line_of(data, "fields")) + \
        _twice(templates, "template", shown, line_of(data, "templates"))
    if values["sort_field"] is not None and values["sort_field"] not in names:
        problems.append(Problem(shown, line_of(data, "sort_field"),
                                f"'sort_field' must name a field (fields: {', '.join(names)})"))
    rule = _card_rule(names, values["kind"] == "cloze", templates, shown, line_of(data, "templates"), problems)
    style = folder / "style.css"
    own_css = _read(style, display_path(style, root), boundary, "style sheet", problems) if _there(style) else ""
    if problems or own_css is None or rule is None:
        return None, problems
    if values["base_css"]:
        css = shared_css + ("\n" + own_css if _there(style) else "")
    else:
        css = own_css  # byte for byte (an imported note type's own CSS)
    sort_field = names.index(values["sort_field"]) if values["sort_field"] else 0
    return NoteType(folder.name, values["id"], values["name"], values["kind"], fields, templates, css, sort_field,
                    values["latex"], values["stock_kind"], rule), []


def _twice(items: tuple[FieldSpec, ...] | tuple[TemplateSpec, ...], what: str, shown: str, line: int) -> list[Problem]:
    """Names (Anki compares them without case) and ids given to two fields, or two templates."""
    names = Counter(item.name.casefold() for item in items)
    ids = Counter(item.id for item in items)
    return ([Problem(shown, line, f"{what} name '{item.name}' is given twice (Anki compares names without case)")
             for item in items if names.pop(item.name.casefold(), 1) > 1]
            + [Problem(shown, line, f"{what} id {item.id} is given twice") for item in items if ids.pop(item.id, 1) > 1])


def _card_rule(names: list[str], cloze: bool, templates: tuple[TemplateSpec, ...], shown: str, line: int,
               problems: list[Problem]) -> CardRule | None:
    """The note type's card rule, or None with the problems of templates Anki could not make cards from."""
    known = set(names) | set(cardgen.SPECIAL_FIELDS) | {"FrontSide"}
    everything = frozenset(names) | frozenset(cardgen.SPECIAL_FIELDS)
    found = len(problems)
    fronts = []
    for template in templates:
        for side, text in (("front", template.front), ("back", template.back)):
            try:
                nodes = cardgen.parse_template(text)
            except TemplateError as error:
                problems.append(Problem(shown, line, f"template '{template.name}', {side}: {error}"))
                continue
            unknown = sorted({r.key for r in cardgen.replacements(nodes)} - known - {""})
            if unknown:
                problems.append(Problem(shown, line, f"template '{template.name}', {side}: "
                                        f"{', '.join('{{' + u + '}}' for u in unknown)} names no field of this note "
                                        f"type (fields: {', '.join(names)})"))
            elif side == "front" and not cloze and not cardgen.renders(nodes, everything):
                problems.append(Problem(shown, line, f"template '{template.name}': its front shows no field, so "
                                        "Anki never makes its card"))
            if side == "front":
                fronts.append(nodes)
    if len(problems) > found:
        return None
    rule = CardRule(tuple(names), cloze, tuple(fronts))
    if cloze and len(templates) != 1:
        problems.append(Problem(shown, line, "a cloze note type has exactly one card template (each deletion number "
                                "makes a card of it)"))
    elif cloze and not rule.cloze_fields:
        problems.append(Problem(shown, line, f"template '{templates[0].name}': the front of a cloze note type shows "
                                "its deletions with {{cloze:Field}} (fields: " + ", ".join(names) + ")"))
    return rule if len(problems) == found else None
