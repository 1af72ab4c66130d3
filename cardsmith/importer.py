"""An Anki package (.apkg) -> cardsmith sources: card files, media, note types and a deck file.

Every note keeps its GUID (`guid:` in the id comment) and its note type keeps its ids (a folder in
templates/), so a build of the imported deck updates the notes learners already have, in place.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import tempfile
import unicodedata
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import htmlmd
from .errors import BuildError, Problem, display_path
from .parse import valid_tag

LEGACY_NAMES = ("collection.anki21", "collection.anki2")
IMG_SRC_RE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"', re.I)


@dataclass(frozen=True)
class AnkiNote:
    """One note read from a package."""

    guid: str
    notetype_id: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str


@dataclass
class AnkiPackage:
    """What an .apkg holds, read from its legacy (JSON schema) collection."""

    notes: list[AnkiNote]
    notetypes: dict[int, dict]
    media: dict[str, bytes]


@dataclass
class ImportResult:
    """What an import wrote and what it could not convert."""

    written: list[Path] = field(default_factory=list)
    notes: int = 0
    markdown_fields: int = 0
    html_fields: int = 0
    warnings: list[Problem] = field(default_factory=list)

    def lines(self, root: Path) -> list[str]:
        shown = [f"wrote {display_path(p, root)}" for p in self.written]
        shown += [str(w) for w in self.warnings]
        shown.append(f"{self.notes} notes imported: {self.markdown_fields} fields as Markdown, "
                     f"{self.html_fields} kept as inline HTML")
        return shown


def read_package(path: Path) -> AnkiPackage:
    """Read an .apkg; the newer zstd format is first converted with the `anki` package if installed."""
    shown = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BuildError([Problem(shown, 0, f"not an Anki package: {getattr(exc, 'strerror', None) or exc}")])
    with archive, tempfile.TemporaryDirectory() as workdir:
        names = set(archive.namelist())
        if "collection.anki21b" in names:
            return _read_modern(path, Path(workdir))
        for name in LEGACY_NAMES:
            if name in names:
                db_path = Path(workdir) / name
                db_path.write_bytes(archive.read(name))
                media_map = json.loads(archive.read("media") or b"{}") if "media" in names else {}
                media = {filename: archive.read(key) for key, filename in media_map.items() if key in names}
                return _read_collection(db_path, media, shown)
    raise BuildError([Problem(shown, 0, "not an Anki package: no collection inside")])


def _read_modern(path: Path, workdir: Path) -> AnkiPackage:
    """Import into a scratch collection with the `anki` package and re-export in the legacy format."""
    try:
        from anki.collection import (Collection, ExportAnkiPackageOptions, ImportAnkiPackageOptions,
                                     ImportAnkiPackageRequest)
    except ImportError:
        raise BuildError([Problem(str(path), 0, "this package uses Anki's newer format; export it again with "
                                  "'Support older Anki versions' ticked, or `pip install anki` and retry")])
    (workdir / "scratch").mkdir()
    col = Collection(str(workdir / "scratch" / "collection.anki2"))
    try:
        for notetype in col.models.all_names_and_ids():  # so that no imported name gets a '+' suffix
            col.models.remove(notetype.id)
        for notetype in col.models.all_names_and_ids():  # Anki keeps the last one: rename it away
            model = col.models.get(notetype.id)
            model["name"] = "cardsmith scratch note type"
            col.models.update_dict(model)
        col.import_anki_package(ImportAnkiPackageRequest(
            package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=False)))
        legacy = workdir / "legacy.apkg"
        col.export_anki_package(out_path=str(legacy), limit=None, options=ExportAnkiPackageOptions(
            with_scheduling=False, with_media=True, legacy=True))
    finally:
        col.close()
    return read_package(legacy)


def _read_collection(db_path: Path, media: dict[str, bytes], shown: str) -> AnkiPackage:
    conn = sqlite3.connect(db_path)
    try:
        models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
        decks = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
        first_deck = dict(conn.execute("SELECT nid, did FROM cards c WHERE ord = "
                                       "(SELECT min(ord) FROM cards WHERE nid = c.nid)").fetchall())
        notes = [AnkiNote(guid, mid, tuple(flds.split("\x1f")), tuple(tags.split()),
                          decks.get(first_deck.get(nid, 1), "Default"))
                 for nid, guid, mid, flds, tags in
                 conn.execute("SELECT id, guid, mid, flds, tags FROM notes ORDER BY id")]
    except sqlite3.DatabaseError as exc:
        raise BuildError([Problem(shown, 0, f"unreadable Anki collection: {exc}")])
    finally:
        conn.close()
    return AnkiPackage(notes, {int(k): v for k, v in json.loads(models_json).items()}, media)


def import_apkg(package: Path, out: Path, root: Path) -> ImportResult:
    """Convert `package` into card files under `out` (inside ROOT/cards/), note types and a deck file."""
    cards_dir = (root / "cards").resolve()
    try:
        glob_dir = out.resolve().relative_to(cards_dir).as_posix()
    except ValueError:
        raise BuildError([Problem(str(out), 0, f"--out must be a folder inside {display_path(root / 'cards')}/")])
    if glob_dir == ".":
        raise BuildError([Problem(str(out), 0, "--out must be a sub-folder of cards/, e.g. cards/<name>/")])
    data = read_package(package)
    result = ImportResult()
    keys = _write_notetypes(data, root, result)
    usable = [n for n in data.notes if n.notetype_id in keys]
    for note in data.notes:
        if note.notetype_id not in keys:
            model = data.notetypes.get(note.notetype_id, {})
            result.warnings.append(Problem(str(package), 0, f"warning: skipped note {note.guid}: note type "
                                           f"'{model.get('name', '?')}' has {len(model.get('flds', []))} fields "
                                           "(only two-field types such as Basic, reversed and Cloze import)"))
    if not usable:
        raise BuildError([Problem(str(package), 0, "no Basic, reversed or Cloze notes to import")] + result.warnings)
    root_deck = _root_deck([n.deck for n in usable], package.stem)
    media = _write_media(data, usable, out, result)
    by_deck: dict[str, list[AnkiNote]] = {}
    for note in usable:
        by_deck.setdefault(note.deck, []).append(note)
    slugs: set[str] = set()
    for deck_name in sorted(by_deck):
        text = _card_file(by_deck[deck_name], deck_name, root_deck, keys, data, media, slugs, result, package)
        sub = deck_name[len(root_deck) + 2:] if deck_name != root_deck else ""
        path = out / f"{_slug(sub.replace('::', ' ')) if sub else 'main'}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        result.written.append(path)
    _write_deck_file(root, out.name, root_deck, glob_dir, result)
    return result


def _root_deck(decks: list[str], fallback: str) -> str:
    """The one top-level deck of the notes, or the package's name when they span several."""
    tops = {d.split("::")[0] for d in decks}
    return tops.pop() if len(tops) == 1 else fallback


def _write_notetypes(data: AnkiPackage, root: Path, result: ImportResult) -> dict[int, str]:
    """Each used two-field note type -> templates/anki-<name>/ with its original ids (reused if present)."""
    existing = {}
    for spec in sorted((root / "templates").glob("*/notetype.yaml")):
        loaded = yaml.safe_load(spec.read_text(encoding="utf-8")) or {}
        existing[loaded.get("id")] = spec.parent.name
    keys: dict[int, str] = {}
    for model_id in sorted({n.notetype_id for n in data.notes}):
        model = data.notetypes.get(model_id)
        if not model or len(model["flds"]) != 2:
            continue
        if model_id in existing:
            keys[model_id] = existing[model_id]
            continue
        cloze = model.get("type") == 1
        base = "anki-" + (_slug(model["name"]) or "notetype")
        key, number = base, 2
        while (root / "templates" / (key + ("-cloze" if cloze and not key.endswith("cloze") else ""))).exists():
            key, number = f"{base}-{number}", number + 1
        key += "-cloze" if cloze and not key.endswith("cloze") else ""
        folder = root / "templates" / key
        folder.mkdir(parents=True)
        templates = []
        for index, tmpl in enumerate(model["tmpls"], 1):
            (folder / f"card{index}-front.html").write_text(tmpl["qfmt"], encoding="utf-8")
            (folder / f"card{index}-back.html").write_text(tmpl["afmt"], encoding="utf-8")
            templates.append({"name": tmpl["name"], "id": _id(tmpl, model_id, index),
                              "front": f"card{index}-front.html", "back": f"card{index}-back.html"})
        spec = {"id": model_id, "name": model["name"], "kind": "cloze" if cloze else "standard",
                "fields": [{"name": f["name"], "id": _id(f, model_id, 100 + i)} for i, f in enumerate(model["flds"])],
                "templates": templates}
        header = ("# Imported from Anki: the ids are the original ones, so that builds update the notes\n"
                  "# learners already have. Keep them; the HTML and style.css may change freely.\n")
        (folder / "notetype.yaml").write_text(header + yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
                                              encoding="utf-8")
        (folder / "style.css").write_text(model.get("css", ""), encoding="utf-8")
        result.written.append(folder / "notetype.yaml")
        keys[model_id] = key
    return keys


def _id(item: dict, model_id: int, index: int) -> int:
    value = item.get("id")
    return value if isinstance(value, int) and value else (model_id * 1000 + index) % (1 << 62)


def _write_media(data: AnkiPackage, notes: list[AnkiNote], out: Path, result: ImportResult) -> dict[str, str]:
    """Extract the images the notes use into OUT/media/; return original name -> path from the card file."""
    used: dict[str, str] = {}
    for note in notes:
        for value in note.fields:
            for src in IMG_SRC_RE.findall(value):
                name = urllib.parse.unquote(src.replace("&amp;", "&"))
                if name in data.media and "/" not in name and name not in used:
                    target = out / "media" / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data.media[name])
                    used[src] = used[name] = f"media/{name}"
                    result.written.append(target)
    return used


def _card_file(notes: list[AnkiNote], deck_name: str, root_deck: str, keys: dict[int, str], data: AnkiPackage,
               media: dict[str, str], slugs: set[str], result: ImportResult, package: Path) -> str:
    lines = []
    if deck_name != root_deck:
        subdeck = deck_name[len(root_deck) + 2:] if deck_name.startswith(root_deck + "::") else deck_name
        lines += ["---", yaml.safe_dump({"subdeck": subdeck}, allow_unicode=True).strip(), "---", ""]
    for note in notes:
        key = keys[note.notetype_id]
        cloze = data.notetypes[note.notetype_id].get("type") == 1
        parts = []
        for value in note.fields:
            text, lossless = htmlmd.to_markdown(value, media)
            result.markdown_fields += lossless and bool(text)
            result.html_fields += not lossless
            parts.append(text)
        question, answer = parts
        if not question or (not answer and not cloze):
            result.warnings.append(Problem(str(package), 0, f"warning: skipped note {note.guid}: "
                                           f"{'empty question' if not question else 'empty answer'}"))
            continue
        card_id = _unique(_slug(_plain(question)) or "card", slugs)
        tags = [t for t in note.tags if valid_tag(t)]
        meta = f"id: {card_id}; type: {key}" + (f"; tags: {' '.join(tags)}" if tags else "") + f"; guid: {note.guid}"
        if "-->" in note.guid or not note.guid.strip():
            result.warnings.append(Problem(str(package), 0, f"warning: skipped note {note.guid!r}: an id comment "
                                           "cannot hold its GUID"))
            continue
        first, _, rest = question.partition("\n")
        lines += [f"## {first}", f"<!-- {meta} -->"]
        if rest:
            lines += [rest, "", "---"]
        lines += ["", answer, ""] if answer else [""]
        result.notes += 1
    return "\n".join(lines).rstrip() + "\n"


def _write_deck_file(root: Path, slug: str, deck_name: str, glob_dir: str, result: ImportResult) -> None:
    path = root / "decks" / f"{slug}.yaml"
    if path.exists():
        result.warnings.append(Problem(display_path(path, root), 1, f"warning: exists, left as it is; its 'cards' "
                                       f"should include {glob_dir}/*.md"))
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({"name": deck_name, "id": random.randrange(1 << 30, 1 << 31), "cards": [f"{glob_dir}/*.md"],
                           "subdecks": "none"}, sort_keys=False, allow_unicode=True)
    path.write_text("# Imported from Anki. Anki knows decks by name: keep 'name' to keep updating them.\n" + text,
                    encoding="utf-8")
    result.written.append(path)


def _plain(markdown_text: str) -> str:
    text = re.sub(r"<[^>]+>|\{\{c\d+::|::[^}]*\}\}|\}\}|!\[[^\]]*\]\([^)]*\)", " ", markdown_text)
    return re.sub(r"\$[^$]*\$|&[#\w]+;|\\", " ", text)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", re.sub(r"[\W_]+", " ", text)).encode("ascii", "ignore").decode().lower()
    words = re.findall(r"[a-z0-9]+", ascii_text)
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 48:
            break
        slug = f"{slug}-{word}" if slug else word
    return slug or "-".join(words)[:48].strip("-")


def _unique(slug: str, taken: set[str]) -> str:
    candidate, number = slug, 2
    while candidate in taken:
        candidate, number = f"{slug}-{number}", number + 1
    taken.add(candidate)
    return candidate
