"""`cardsmith import --verify`: build the imported decks in a scratch folder, then compare the package the
build makes with the original, note by note (GUID, note type, fields, tags, deck, modification time), note
type by note type and file by file, and say every difference. Reads the project, writes only the scratch
folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from ..anki.apkg import MEDIA_TOTAL_LIMIT, AnkiNoteType, AnkiPackage, open_package
from ..config import load_decks
from ..errors import NO_LINE, BuildError, Problem, counted
from ..notetypes import LATEX_POSTAMBLE, LATEX_PREAMBLE
from ..pipeline import Project
from .importnotes import note_problem


def verify_import(package: Path, root: Path, decks: list[str], out: Path) -> tuple[list[str], bool]:
    """What differs between the package and a build of the decks imported from it (their files under `out`), and
    whether anything does."""
    shown = str(package)
    with tempfile.TemporaryDirectory(prefix="cardsmith-verify-") as scratch:
        copy = Path(scratch) / "project"
        _copy_sources(root, copy, decks, out)
        try:
            results = Project(copy, cache=False).build(Path(scratch) / "dist", only=decks)
        except BuildError as error:
            return [str(p) for p in error.problems] + [f"verify: the imported decks do not build ({shown})"], True
        lines = []
        for result in results:
            if result.changes.any:
                lines.append(str(Problem(shown, NO_LINE, f"the first release of deck '{result.config.name}' would "
                                         f"change cards ({result.changes_line()}): learners would get them as new or "
                                         "updated notes")))
        with open_package(package) as original:
            built = {}
            for number, result in enumerate(results):
                with open_package(result.output) as made:
                    built.update({n.guid: (n, made.notetypes[n.notetype_id]) for n in made.notes})
                    if number == 0:  # the decks of one import share its media folder: each package has it all
                        lines += _media(original, made, shown)
            lines += _notes(original, built, shown)
            lines += _notetypes(original, {mid: nt for _, nt in built.values() for mid in [nt.notetype_id]}, shown)
            count = len(original.notes)
    if lines:
        return lines + [f"verify: the build differs from {shown} (the lines above)"], True
    return [f"verify: a build of the imported sources holds the package's {counted(count, 'note')} exactly (GUID, note type, "
            "fields, tags, deck, modification time), its note types and its media files"], False


def _copy_sources(root: Path, copy: Path, decks: list[str], out: Path) -> None:
    """The imported decks' files (deck files and locks, note types, cards and media) into a scratch project."""
    (copy / "decks").mkdir(parents=True)
    for slug in decks:
        for suffix in (".yaml", ".lock"):
            if (root / "decks" / f"{slug}{suffix}").is_file():
                shutil.copyfile(root / "decks" / f"{slug}{suffix}", copy / "decks" / f"{slug}{suffix}")
    shutil.copytree(root / "templates", copy / "templates", symlinks=True, ignore=_special_files)
    shutil.copytree(out, copy / out.relative_to(root), symlinks=True, ignore=_special_files)
    load_decks(copy)  # the copy is complete: its deck files read


def _special_files(folder: str, names: list[str]) -> list[str]:
    """The FIFOs, devices and sockets in a folder: never opened (a FIFO blocks; a build refuses any it needs)."""
    return [name for name in names if not (os.path.islink(path := os.path.join(folder, name))
                                           or os.path.isdir(path) or os.path.isfile(path))]


def _notes(original: AnkiPackage, built: dict, shown: str) -> list[str]:
    lines = []
    for note in original.notes:
        found = built.get(note.guid)
        if found is None:
            lines.append(str(note_problem(shown, note, "is not in the build")))
            continue
        made, notetype = found
        model = original.notetypes[note.notetype_id]
        what = []
        if made.notetype_id != note.notetype_id:
            what.append(f"its note type is {notetype.name!r} (id {made.notetype_id}), not {model.name!r}")
        for spec, old, new in zip(model.fields, note.fields, made.fields):
            if old != new:
                at = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
                what.append(f"field {spec.name!r} differs from character {at + 1} ({len(old)} characters, built "
                            f"{len(new)})")
        if sorted(made.tags) != sorted(note.tags):
            what.append(f"its tags are {' '.join(sorted(made.tags))!r}, not {' '.join(sorted(note.tags))!r}")
        if made.deck != note.deck:
            what.append(f"it is in the deck {made.deck!r}, not {note.deck!r}")
        if made.mod != note.mod:
            what.append(f"its modification time is {made.mod}, not {note.mod} (Anki would " +
                        ("update learners' copies)" if made.mod > note.mod else "skip it)"))
        lines += [str(note_problem(shown, note, message)) for message in what]
    return lines


def _notetypes(original: AnkiPackage, built: dict[int, AnkiNoteType], shown: str) -> list[str]:
    lines = []
    for mid in sorted({n.notetype_id for n in original.notes}):
        old, new = original.notetypes[mid], built.get(mid)
        if new is None:
            continue  # said per note
        # A package made before Anki gave fields and templates ids has none: the import gave them fixed ones.
        fields = tuple(f if f.field_id else replace(f, field_id=b.field_id) for f, b in zip(old.fields, new.fields))
        templates = tuple(t if t.template_id else replace(t, template_id=b.template_id)
                          for t, b in zip(old.templates, new.templates))
        differs = [name for name, a, b in (
            ("name", old.name, new.name), ("kind", old.cloze, new.cloze), ("CSS", old.css, new.css),
            ("fields", fields, new.fields), ("templates", templates, new.templates),
            ("sort field", old.sort_field, new.sort_field), ("LaTeX svg", old.latex_svg, new.latex_svg),
            ("LaTeX preamble", old.latex_pre or LATEX_PREAMBLE, new.latex_pre or LATEX_PREAMBLE),
            ("LaTeX postamble", old.latex_post or LATEX_POSTAMBLE, new.latex_post or LATEX_POSTAMBLE),
            ("stock kind", old.stock_kind, new.stock_kind)) if a != b]
        if differs:
            lines.append(str(Problem(shown, NO_LINE, f"note type '{old.name}' (id {mid}): its {', '.join(differs)} "
                                     "differ in the build")))
    return lines


def _media(original: AnkiPackage, made: AnkiPackage, shown: str) -> list[str]:
    """Each media file of the package: in the build under its name, with the same bytes."""
    lines = []
    for name in sorted(original.media):
        if name not in made.media:
            lines.append(str(Problem(shown, NO_LINE, f"media file '{name}' is not in the build")))
        elif _digest(original, name) != _digest(made, name):
            lines.append(str(Problem(shown, NO_LINE, f"media file '{name}' differs in the build")))
    return lines


def _digest(package: AnkiPackage, name: str) -> str:
    class Sink:
        def __init__(self) -> None:
            self.hash = hashlib.sha256()

        def write(self, data: bytes) -> None:
            self.hash.update(data)

    sink = Sink()
    package.extract_media(name, sink, MEDIA_TOTAL_LIMIT)  # type: ignore[arg-type]
    return sink.hash.hexdigest()
