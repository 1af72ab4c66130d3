"""The project's boundary: every file read on a card's or note type's behalf must be inside it.

Card files, images, note-type templates and style sheets are all checked here, symlinks followed,
so that a hostile card (`![x](../../../etc/passwd)`, a symlink under cards/) cannot put a file
from elsewhere on the machine into a deck, a preview or an export.
"""

from __future__ import annotations

import errno
from pathlib import Path


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
