"""Deck definitions: decks/<deck>.yaml -> DeckConfig, validated with line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import BuildError, Problem, display_path
from .yamlfile import line_of, load_yaml, read_text

DECK_KEYS = {
    "name": "the deck name shown in Anki; `::` makes it a subdeck of another deck",
    "id": "a fixed integer deck id, chosen once (e.g. random in [2**30, 2**31)) and never changed",
    "description": "text shown on the deck's overview screen in Anki",
    "cards": "list of glob patterns, relative to cards/, of the card files this deck takes",
    "subdecks": "`per-file` (default: one subdeck per card file) or `none`",
}
SUBDECK_MODES = ("per-file", "none")


@dataclass(frozen=True)
class DeckConfig:
    """One deck as declared in decks/<slug>.yaml."""

    slug: str
    path: Path
    name: str
    deck_id: int
    description: str
    card_globs: tuple[str, ...]
    subdecks: str

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")


def load_decks(root: Path) -> list[DeckConfig]:
    """Load every decks/*.yaml under `root`; raise BuildError listing all problems."""
    problems: list[Problem] = []
    decks = []
    deck_dir = root / "decks"
    paths = sorted(deck_dir.glob("*.yaml")) + sorted(deck_dir.glob("*.yml"))
    if not paths:
        raise BuildError([Problem(display_path(deck_dir, root), 0, "no deck definitions (*.yaml) found")])
    for path in paths:
        deck, found = _load_deck(path, root)
        problems += found
        if deck:
            decks.append(deck)
    problems += _check_collisions(decks, root)
    if problems:
        raise BuildError(problems)
    return decks


def _load_deck(path: Path, root: Path) -> tuple[DeckConfig | None, list[Problem]]:
    shown = display_path(path, root)
    problems: list[Problem] = []
    text = read_text(path, shown, problems)
    if text is None:
        return None, problems
    data, problems = load_yaml(text, shown)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [Problem(shown, 1, "a deck file must be a YAML mapping with keys: " + ", ".join(DECK_KEYS))]
    for key in data:
        if key not in DECK_KEYS:
            valid = ", ".join(DECK_KEYS)
            problems.append(Problem(shown, line_of(data, str(key)), f"unknown key '{key}' (valid keys: {valid})"))

    def need(key: str, kind: type, what: str):
        if key not in data:
            problems.append(Problem(shown, 1, f"missing required key '{key}': {DECK_KEYS[key]}"))
            return None
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            problems.append(Problem(shown, line_of(data, key), f"'{key}' must be {what}"))
            return None
        return value

    name = need("name", str, "a string")
    deck_id = need("id", int, "an integer")
    globs = need("cards", list, "a list of glob patterns")
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(Problem(shown, line_of(data, "description"), "'description' must be a string"))
    subdecks = data.get("subdecks", "per-file")
    if subdecks not in SUBDECK_MODES:
        problems.append(Problem(shown, line_of(data, "subdecks"),
                                f"'subdecks' must be one of: {', '.join(SUBDECK_MODES)}"))
    if name is not None and (not name.strip() or any(not part.strip() for part in name.split("::"))):
        problems.append(Problem(shown, line_of(data, "name"), "'name' must not be empty or have empty `::` parts"))
    if deck_id is not None and not (1 <= deck_id < 1 << 63):
        problems.append(Problem(shown, line_of(data, "id"), "'id' must be a positive 64-bit integer"))
    if globs is not None:
        if not globs or not all(isinstance(g, str) and g.strip() for g in globs):
            problems.append(Problem(shown, line_of(data, "cards"), "'cards' must be a non-empty list of glob patterns"))
        else:
            problems += [Problem(shown, line_of(data, "cards"), f"'cards' pattern '{g}' {why}")
                         for g in globs if (why := _glob_problem(g))]
    if problems:
        return None, problems
    slug = path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", slug):
        return None, [Problem(shown, 1, "deck file name must be letters, digits, '.', '_' or '-'")]
    return DeckConfig(slug, path, name.strip(), deck_id, description, tuple(globs), subdecks), []


def _glob_problem(pattern: str) -> str | None:
    """Why a `cards` glob pattern cannot be used (pathlib would raise), or None."""
    parts = PurePosixPath(pattern.strip()).parts
    if pattern.strip().startswith("/") or PurePosixPath(pattern).is_absolute():
        return "must be relative to cards/"
    if ".." in parts:
        return "must stay inside cards/ (no `..`)"
    if not parts or parts == (".",):
        return "names no files"
    if any("**" in part and part != "**" for part in parts):
        return "is invalid: `**` must be a whole path component"
    return None


def _check_collisions(decks: list[DeckConfig], root: Path) -> list[Problem]:
    problems = []
    seen_ids: dict[int, DeckConfig] = {}
    seen_names: dict[str, DeckConfig] = {}
    for deck in decks:
        shown = display_path(deck.path, root)
        other = seen_ids.setdefault(deck.deck_id, deck)
        if other is not deck:
            problems.append(Problem(shown, 1, f"deck id {deck.deck_id} is also used by {display_path(other.path, root)}"))
        other = seen_names.setdefault(deck.name, deck)
        if other is not deck:
            problems.append(Problem(shown, 1, f"deck name '{deck.name}' is also used by {display_path(other.path, root)}"))
    return problems
