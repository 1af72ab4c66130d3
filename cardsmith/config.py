"""Deck definitions: decks/<deck>.yaml -> DeckConfig, validated with line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import BuildError, Problem, display_path
from .schema import Invalid, Key, one_of, read_mapping, string
from .yamlfile import load_yaml, read_text

SUBDECK_MODES = ("per-file", "none")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")  # control characters and line breaks


def deck_name(value: object) -> str:
    """A deck's or subdeck's name, as written (the one deck-name rule: deck files, front matter, `init --name`).

    Anki drops control characters from a deck's name (measured: "A\\nB" becomes "AB"), so a name with one
    would not be the deck cardsmith reports and syncs into.
    """
    name = string(value)
    if CONTROL_RE.search(name):
        raise Invalid("must not hold line breaks, tabs or other control characters (Anki drops them from a deck's "
                      "name)")
    if not name.strip() or any(not part.strip() for part in name.split("::")):
        raise Invalid("must not be empty or have empty `::` parts")
    return name


def _name(value: object) -> str:
    return deck_name(value).strip()


def _deck_id(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("must be an integer")
    if not 1 <= value < 1 << 63:
        raise Invalid("must be a positive 64-bit integer")
    return value


def _globs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise Invalid("must be a list of glob patterns")
    if not value or not all(isinstance(g, str) and g.strip() for g in value):
        raise Invalid("must be a non-empty list of glob patterns")
    wrong = [f"'cards' pattern '{g}' {why}" for g in value if (why := _glob_problem(g))]
    if wrong:
        raise Invalid(*wrong)
    return tuple(value)


def _media_folder(value: object) -> str:
    folder = string(value).strip().rstrip("/")
    why = _glob_problem(folder) if folder else "names no folder"
    if why or any(c in folder for c in "*?["):
        raise Invalid(f"must be a folder under cards/ (its path{', ' + why if why else ''}, no wildcards)")
    return folder


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise Invalid("must be a list of file names")
    return tuple(value)


DECK_KEYS = {
    "name": Key("the deck name shown in Anki; `::` makes it a subdeck of another deck", _name, required=True),
    "id": Key("a fixed integer deck id, chosen once (e.g. random in [2**30, 2**31)) and never changed",
              _deck_id, required=True),
    "description": Key("text shown on the deck's overview screen in Anki", string, default=""),
    "cards": Key("list of glob patterns, relative to cards/, of the card files this deck takes", _globs, required=True),
    "subdecks": Key("`per-file` (default: one subdeck per card file) or `none`", one_of(*SUBDECK_MODES),
                    default="per-file"),
    "media": Key("a folder under cards/ whose files Anki gets by their own names (a deck imported from Anki): every "
                 "one of them, and cards find images and sounds there by name", _media_folder, default=None),
    "missing_media": Key("file names cards use that the media folder lacks (the imported package lacked them): "
                         "warned about, not refused", _names, default=()),
}


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
    media: str | None = None  # its media folder, under cards/
    missing_media: tuple[str, ...] = ()

    @property
    def lock_path(self) -> Path:
        return self.path.with_suffix(".lock")

    @property
    def media_folder(self) -> Path | None:
        """The deck's media folder (`media:`), as a path in the project."""
        return self.path.parent.parent / "cards" / self.media if self.media else None


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
    values, problems = read_mapping(data, DECK_KEYS, shown)
    if problems:
        return None, problems
    slug = path.stem
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", slug):
        return None, [Problem(shown, 1, "deck file name must be letters, digits, '.', '_' or '-'")]
    return DeckConfig(slug, path, values["name"], values["id"], values["description"], values["cards"],
                      values["subdecks"], values["media"], values["missing_media"]), []


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
