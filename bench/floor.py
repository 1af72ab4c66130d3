"""The floor: genanki alone writes the same notes, fields already rendered (no parsing, no Markdown)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import warnings

import genanki


def write_floor(notes_json: Path, output: Path) -> int:
    """Write every note of `notes_json` (see run.export_notes) to `output`; return the note count."""
    warnings.simplefilter("ignore")  # genanki flags valid HTML in math, as in package.py
    data = json.loads(notes_json.read_text(encoding="utf-8"))
    models = {key: genanki.Model(m["id"], m["name"], fields=m["fields"], templates=m["templates"],
                                 css=m["css"], model_type=m["type"])
              for key, m in data["models"].items()}
    decks: dict[str, genanki.Deck] = {}
    for note in data["notes"]:
        deck = decks.get(note["deck"])
        if deck is None:
            deck = decks[note["deck"]] = genanki.Deck(note["deck_id"], note["deck"])
        deck.add_note(genanki.Note(models[note["model"]], note["fields"], tags=note["tags"], guid=note["guid"]))
    genanki.Package(list(decks.values()), media_files=data["media"]).write_to_file(str(output))
    return len(data["notes"])


if __name__ == "__main__":
    write_floor(Path(sys.argv[1]), Path(sys.argv[2]))
