"""An Anki package (.apkg) -> cardsmith sources: card files, media, note types and a deck file.

Every note keeps its GUID (`guid:` in the id comment) and its note type keeps its ids (a folder in
templates/), so a build of the imported deck updates the notes learners already have, in place.

The package may be hostile (ankipackage.py reads it). Everything is made first in a staging folder
and each card is read back as a build reads it (parsed and rendered); a note that would not build is
skipped with a warning. Only then are the files written, and only new files under --out, templates/
and decks/: never through a symbolic link, never over an existing file unless --force.
"""

from __future__ import annotations

import glob
import html
import os
import random
import re
import tempfile
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..anki.apkg import MEDIA_TOTAL_LIMIT, AnkiNote, AnkiNoteType, AnkiPackage, open_package, plain_file_name
from ..boundary import Boundary
from ..cardgen import CardRule, cloze_numbers
from ..errors import LINE_BREAK_RE, BuildError, Problem, display_path
from ..notetypes import FieldSpec, NoteType
from ..parse import parse_text, slug, unique, valid_tag
from ..render import EXTERNAL_RE, IMG_RE, Renderer, image_source, with_source
from ..resolve import field_texts, resolved_note
from ..yamlfile import load_yaml, read_text
from . import htmlmd
from .ids import slug_for
from .stage import Stage

MAIN = "main"  # the card file of the notes in the package's top deck


@dataclass
class ImportResult:
    """What an import wrote and what it could not convert."""

    written: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)
    notes: int = 0
    markdown_fields: int = 0
    html_fields: int = 0
    warnings: list[Problem] = field(default_factory=list)

    def lines(self, root: Path) -> list[str]:
        shown = [f"wrote {display_path(p, root)}" for p in self.written]
        shown += [f"replaced {display_path(p, root)}" for p in self.replaced]
        shown += [str(w) for w in self.warnings]
        shown.append(f"{self.notes} notes imported: {self.markdown_fields} fields as Markdown, "
                     f"{self.html_fields} kept as inline HTML")
        return shown


def import_apkg(package: Path, out: Path, root: Path, force: bool = False) -> ImportResult:
    """Convert `package` into card files under `out` (inside ROOT/cards/), note types and a deck file."""
    out, glob_dir = _out_folder(out, root)
    result = ImportResult()
    with open_package(package) as data, tempfile.TemporaryDirectory(prefix="cardsmith-import-") as workdir:
        stage = Stage(root, Path(workdir))
        keys = _notetypes(data, root, stage)
        usable = []
        for note in data.notes:
            notetype = data.notetypes[note.notetype_id]
            if note.notetype_id in keys:
                usable.append(note)
            else:
                result.warnings.append(_warning(package, f"skipped note '{note.guid}': note type '{notetype.name}' "
                                                f"has {len(notetype.fields)} fields (only two-field types such as "
                                                "Basic, reversed and Cloze import)"))
        if not usable:
            raise BuildError([Problem(str(package), 0, "no Basic, reversed or Cloze notes to import")]
                             + result.warnings)
        root_deck = _root_deck([_deck_name(n.deck) for n in usable], package.stem)
        _card_files(data, usable, keys, root_deck, out, stage, result)
        if not result.notes:
            raise BuildError([Problem(str(package), 0, "no note could be imported")] + result.warnings)
        _deck_file(root, out, root_deck, glob_dir, stage, result)
        result.written, result.replaced = stage.commit(force)
    return result


def _warning(package: Path | str, message: str) -> Problem:
    return Problem(str(package), 0, message, "warning")


def _out_folder(out: Path, root: Path) -> tuple[Path, str]:
    """--out as a path under ROOT/cards/ (without following links) and as a glob under cards/."""
    cards = Path(os.path.abspath(root / "cards"))
    try:
        relative = Path(os.path.abspath(out)).relative_to(cards)
    except ValueError:
        raise BuildError([Problem(str(out), 0, f"--out must be a folder inside {display_path(root / 'cards')}/")])
    if not relative.parts:
        raise BuildError([Problem(str(out), 0, "--out must be a sub-folder of cards/, e.g. cards/<name>/")])
    return root / "cards" / relative, relative.as_posix()


def _deck_name(name: str) -> str:
    """A deck name a deck file and front matter accept: no control characters, no empty `::` parts."""
    parts = (LINE_BREAK_RE.sub(" ", part).replace("\t", " ").strip() for part in name.split("::"))
    return "::".join(part for part in parts if part) or "Default"


def _root_deck(decks: list[str], fallback: str) -> str:
    """The one top-level deck of the notes, or the package's name when they span several."""
    tops = {d.split("::")[0] for d in decks}
    return tops.pop() if len(tops) == 1 else _deck_name(fallback)


def _existing_notetypes(root: Path) -> dict[int, str]:
    """Note type id -> folder in templates/, for the note types the project has (unreadable ones left out)."""
    found: dict[int, str] = {}
    for spec in sorted((root / "templates").glob("*/notetype.yaml")):
        text = read_text(spec, str(spec), [])
        data, problems = load_yaml(text, str(spec)) if text is not None else (None, [])
        if not problems and isinstance(data, dict) and isinstance(data.get("id"), int):
            found.setdefault(data["id"], spec.parent.name)
    return found


def _notetypes(data: AnkiPackage, root: Path, stage: Stage) -> dict[int, str]:
    """Each used two-field note type -> templates/anki-<name>/ with its original ids (reused if present)."""
    existing = _existing_notetypes(root)
    keys: dict[int, str] = {}
    for model_id in sorted({n.notetype_id for n in data.notes}):
        model = data.notetypes[model_id]
        if len(model.fields) != 2:
            continue
        if model_id in existing:
            keys[model_id] = existing[model_id]
            continue
        keys[model_id] = key = _notetype_key(model, root, set(keys.values()))
        _notetype_files(model, root / "templates" / key, stage)
    return keys


def _notetype_key(model: AnkiNoteType, root: Path, taken: set[str]) -> str:
    """A new folder name in templates/: anki-<name>, ending in -cloze exactly for cloze types."""
    base = "anki-" + (slug(model.name) or "notetype")
    if base.endswith("cloze") and not model.cloze:
        base += "-standard"
    suffix = "-cloze" if model.cloze and not base.endswith("cloze") else ""
    key, number = base + suffix, 2
    while key in taken or os.path.lexists(root / "templates" / key):
        key, number = f"{base}-{number}{suffix}", number + 1
    return key


def _notetype_files(model: AnkiNoteType, folder: Path, stage: Stage) -> None:
    templates = []
    for index, tmpl in enumerate(model.templates, 1):
        stage.write_text(folder / f"card{index}-front.html", tmpl.front)
        stage.write_text(folder / f"card{index}-back.html", tmpl.back)
        templates.append({"name": tmpl.name, "id": tmpl.template_id or _derived_id(model.notetype_id, index),
                          "front": f"card{index}-front.html", "back": f"card{index}-back.html"})
    spec = {"id": model.notetype_id, "name": model.name, "kind": "cloze" if model.cloze else "standard",
            "fields": [{"name": name, "id": field_id or _derived_id(model.notetype_id, 100 + i)}
                       for i, (name, field_id) in enumerate(model.fields)],
            "templates": templates}
    header = ("# Imported from Anki: the ids are the original ones, so that builds update the notes\n"
              "# learners already have. Keep them; the HTML and style.css may change freely.\n")
    stage.write_text(folder / "notetype.yaml", header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    stage.write_text(folder / "style.css", model.css)


def _derived_id(model_id: int, index: int) -> int:
    return (model_id * 1000 + index) % (1 << 62) or index


class _Media:
    """The images the notes use, unpacked into the staged OUT/media/ within the total limit."""

    def __init__(self, data: AnkiPackage, out: Path, stage: Stage, result: ImportResult):
        self.data, self.out, self.stage, self.result = data, out, stage, result
        self.done: dict[str, bool] = {}
        self.budget = MEDIA_TOTAL_LIMIT

    def images(self, value: str, note: AnkiNote) -> str:
        """The field with each image pointing at media/<name>; an image it cannot have is left out."""
        def replace(tag: re.Match) -> str:
            found = image_source(tag.group(0))
            if found is None:
                return tag.group(0)
            attribute, written = found
            raw = html.unescape(written)
            if EXTERNAL_RE.match(raw):
                return tag.group(0)
            name = urllib.parse.unquote(raw)
            why = self._unpack(name)
            if why:
                self.result.warnings.append(_warning(self.data.shown, f"skipped image '{name}' of note "
                                                     f"'{note.guid}': {why}"))
                return ""
            return with_source(tag.group(0), attribute, html.escape("media/" + name, quote=True))

        return IMG_RE.sub(replace, value)

    def _unpack(self, name: str) -> str | None:
        """Unpack one media file once; return why it cannot be, or None."""
        if name not in self.done:
            if not plain_file_name(name):
                return "not a plain file name (a name in Anki's flat media folder)"
            if name not in self.data.media:
                return "not in the package"
            with self.stage.path(self.out / "media" / name).open("wb") as staged:
                self.budget -= self.data.extract_media(name, staged, self.budget)
            self.done[name] = True
        return None


def _card_files(data: AnkiPackage, notes: list[AnkiNote], keys: dict[int, str], root_deck: str, out: Path,
                stage: Stage, result: ImportResult) -> None:
    """One card file per deck (main.md for the top deck), each file name its own, every card checked."""
    by_deck: dict[str, list[AnkiNote]] = {}
    for note in notes:
        by_deck.setdefault(_deck_name(note.deck), []).append(note)
    media, renderer = _Media(data, out, stage, result), Renderer(Boundary(stage.folder))
    names: set[str] = {MAIN}
    slugs: set[str] = set()
    guids: set[str] = set()
    for deck_name in sorted(by_deck):
        subdeck = deck_name[len(root_deck) + 2:] if deck_name.startswith(root_deck + "::") else deck_name
        if deck_name == root_deck:
            name, lines = MAIN, []
        else:
            name = unique(_file_slug(subdeck), names)  # lower case: distinct on any file system
            front = yaml.safe_dump({"subdeck": subdeck}, allow_unicode=True, width=float("inf")).strip()
            lines = ["---", front, "---", ""]
        path = out / f"{name}.md"
        staged = stage.location(path)
        count = 0
        for note in by_deck[deck_name]:
            if note.guid in guids:
                result.warnings.append(_warning(data.shown, f"skipped note '{note.guid}': its GUID is used by an "
                                                "earlier note"))
                continue
            notetype = _read_back_type(keys[note.notetype_id], data.notetypes[note.notetype_id])
            text = _card(note, notetype, media, renderer, staged, slugs, result, data.shown)
            if text is not None:
                guids.add(note.guid)
                lines.append(text)
                count += 1
        text = "\n".join(lines).rstrip() + "\n"
        parsed = parse_text(text, staged, display_path(path, stage.root))
        if parsed.problems or len(parsed.notes) != count:  # each card was checked alone: this cannot happen
            raise BuildError(parsed.problems or [Problem(str(path), 0, "import made a card file that does not "
                                                         "read back (please report this)")])
        if count:
            stage.write_text(path, text)


def _card(note: AnkiNote, notetype: NoteType, media: _Media, renderer: Renderer, staged: Path, slugs: set[str],
          result: ImportResult, shown: str) -> str | None:
    """A note as card text that parses and renders back to the same card, or None (with a warning)."""
    key, cloze = notetype.key, notetype.is_cloze
    fields = [media.images(value.replace("\x00", ""), note) for value in note.fields]
    converted = [htmlmd.to_markdown(value) for value in fields]
    question, answer = (text for text, _ in converted)
    why = ("empty question" if not question else "empty answer" if not answer and not cloze
           else "a cloze note without a deletion" if cloze and not cloze_numbers(question) else "")
    if why:
        result.warnings.append(_warning(shown, f"skipped note '{note.guid}': {why}"))
        return None
    tags = [t for t in note.tags if valid_tag(t) and ";" not in t]  # `;` would split the id comment
    left_out = [t for t in note.tags if t not in tags]
    card_id = slug_for(question, slugs)
    raw = [(htmlmd.raw_html(value), False) if value.strip() else ("", True) for value in fields]
    problem = ""
    for attempt in [converted, raw] if converted != raw else [raw]:  # raw HTML lines, when Markdown would not do
        text = _card_text(card_id, key, tags, note.guid, attempt[0][0], attempt[1][0])
        problem = _reads_back(text, (card_id, key, tuple(tags), note.guid), staged, renderer, notetype)
        if not problem:
            result.markdown_fields += sum(1 for text, lossless in attempt if lossless and text)
            result.html_fields += sum(1 for _, lossless in attempt if not lossless)
            result.notes += 1
            if left_out:
                result.warnings.append(_warning(shown, f"note '{note.guid}': tags left out (an id comment cannot "
                                                f"hold them): {' '.join(repr(t) for t in left_out)}"))
            return text
    slugs.discard(card_id)
    result.warnings.append(_warning(shown, f"skipped note '{note.guid}': it would not build ({problem})"))
    return None


def _card_text(card_id: str, key: str, tags: list[str], guid: str, question: str, answer: str) -> str:
    meta = f"id: {card_id}; type: {key}" + (f"; tags: {' '.join(tags)}" if tags else "") + f"; guid: {guid}"
    first, _, rest = question.partition("\n")
    lines = [f"## {first}", f"<!-- {meta} -->"]
    if rest:
        lines += [rest, "", "---"]
    lines += ["", answer, ""] if answer else [""]
    return "\n".join(lines)


def _reads_back(text: str, expected: tuple, staged: Path, renderer: Renderer, notetype: NoteType) -> str:
    """Why the card text does not parse and render back as one card with the expected identity ('' if it does)."""
    parsed = parse_text(text, staged, staged.name)
    if parsed.problems:
        return parsed.problems[0].message
    if len(parsed.notes) != 1:
        return f"it reads as {len(parsed.notes)} cards"
    source = parsed.notes[0]
    if (source.card_id, source.note_type, source.tags, source.guid) != expected:
        return "its id comment does not read back (GUID or tags)"
    fields, problems = field_texts(source, notetype)
    if not problems:
        _, problems = renderer.render(resolved_note(source, source.guid or "", fields, ""))
    return problems[0].message if problems else ""


def _read_back_type(key: str, model: AnkiNoteType) -> NoteType:
    """The imported note type as far as reading a card back needs it (its fields; its templates are not read)."""
    fields = tuple(FieldSpec(name, field_id or 0) for name, field_id in model.fields)
    return NoteType(key, model.notetype_id, model.name, "cloze" if model.cloze else "standard", fields, (), "",
                    rule=CardRule(tuple(f.name for f in fields), model.cloze, ()))


def _deck_file(root: Path, out: Path, deck_name: str, glob_dir: str, stage: Stage, result: ImportResult) -> None:
    pattern = f"{glob.escape(glob_dir)}/*.md"
    path = root / "decks" / f"{slug(out.name) or 'imported'}.yaml"
    if os.path.lexists(path):
        result.warnings.append(Problem(display_path(path, root), 1, f"exists, left as it is; its 'cards' should "
                                       f"include {pattern}", "warning"))
        return
    text = yaml.safe_dump({"name": deck_name, "id": random.randrange(1 << 30, 1 << 31), "cards": [pattern],
                           "subdecks": "none"}, sort_keys=False, allow_unicode=True)
    stage.write_text(path, "# Imported from Anki. Anki knows decks by name: keep 'name' to keep updating them.\n"
                     + text)


def _file_slug(name: str) -> str:
    """A card file name for a subdeck: its ASCII slug, else its own letters (never empty or hidden)."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold())
    return slug(name.replace("::", " ")) or "-".join(words)[:48].strip("-_") or "subdeck"
