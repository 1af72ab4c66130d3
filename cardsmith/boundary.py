"""The project's boundary: every file read on a card's or note type's behalf must be inside it.

Card files, images, note-type templates and style sheets are all checked here, symlinks followed,
so that a hostile card (`![x](../../../etc/passwd)`, a symlink under cards/) cannot put a file
from elsewhere on the machine into a deck, a preview or an export.
"""

from __future__ import annotations

import errno
from pathlib import Path

from .errors import NO_LINE, BuildError, Problem

SOURCE_FOLDERS = ("cards", "decks", "templates")  # what a build reads (pipeline, config.load_decks, notetypes)


class Boundary:
    """The project folder, and the one rule that decides whether a file is inside it."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._folders: dict[Path, Path] = {}  # a folder -> its real path (many card files share one)

    def contains(self, path: Path) -> bool:
        """Whether `path`, every symlink followed, is inside the project folder."""
        try:
            return self._real(path).is_relative_to(self.root)
        except (OSError, RuntimeError, ValueError):  # a symlink loop (RuntimeError before 3.13), a NUL
            return False

    def _real(self, path: Path) -> Path:
        """`path` with every symlink followed; a folder is resolved once (resolve() stats every component)."""
        if ".." in path.parts or _is_symlink(path):
            return path.resolve()
        folder = self._folders.get(path.parent)
        if folder is None:
            folder = self._folders[path.parent] = path.parent.resolve()
        return folder / path.name


def _is_symlink(path: Path) -> bool:
    """Whether `path` is a symlink; a name no file system takes (over 255 bytes) is none (lstat says so by raising)."""
    try:
        return path.is_symlink()
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            return False
        raise


def outside(what: str, written: str) -> str:
    """The message for a file that is outside the project, naming it as the input wrote it."""
    return f"{what} '{written}' is outside the project"


def refuse_sources(root: Path, target: Path, option: str) -> None:
    """Raise BuildError when an output a command was told to write (`option`) is among the project's sources: an
    export's handout `<deck>.md` in a card folder, a build's report, replaced the card file of that name."""
    out, real_root = target.resolve(), root.resolve()
    for folder in SOURCE_FOLDERS:
        if out.is_relative_to(real_root / folder):
            raise BuildError([Problem(option, NO_LINE, f"{out.relative_to(real_root).as_posix()} is inside the "
                                      f"project's sources ({folder}/): it would replace or add card, deck or note-type "
                                      "files; give another place (the default is dist/)")])
