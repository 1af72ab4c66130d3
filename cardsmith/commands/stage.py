"""Files made first in a staging folder laid out like the project, then written into it all at once.

Nothing is written through a symbolic link, and no existing file is replaced unless asked (`force`);
if any file cannot be, nothing is written at all.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from ..errors import BuildError, Problem, display_path
from ..files import remove_stale, temp_for


class Stage:
    """The files an import writes, made first in a staging folder laid out like the project."""

    def __init__(self, root: Path, folder: Path):
        self.root = root
        self.folder = folder
        self.files: dict[Path, Path] = {}  # project path -> staged copy

    def location(self, target: Path) -> Path:
        """Where `target` is staged (a card there finds its staged images as a build would)."""
        staged = self.folder / target.relative_to(self.root)
        staged.parent.mkdir(parents=True, exist_ok=True)
        return staged

    def path(self, target: Path) -> Path:
        """Where to stage `target`, which will be written."""
        self.files[target] = self.location(target)
        return self.files[target]

    def write_text(self, target: Path, text: str) -> None:
        self.path(target).write_text(text, encoding="utf-8")

    def commit(self, force: bool) -> tuple[list[Path], list[Path]]:
        """Write every staged file into the project; return (new files, replaced files)."""
        problems, written, replaced = set(), [], []
        for target in self.files:
            link = _symlink_on_the_way(self.root, target)
            shown = display_path(target, self.root)
            if link is not None:
                problems.add(Problem(display_path(link, self.root), 0, "is a symbolic link: `import` never writes "
                                     "through one (it writes only under --out, templates/ and decks/)"))
            elif not os.path.lexists(target):
                written.append(target)
            elif not target.is_file():
                problems.add(Problem(shown, 0, "exists and is not a file: `import` cannot put a file there"))
            elif not force:
                problems.add(Problem(shown, 0, "exists: `import` replaces files only with --force"))
            else:
                replaced.append(target)
        if problems:
            raise BuildError(list(problems))
        _install(self.files)
        return written, replaced


def _symlink_on_the_way(root: Path, target: Path) -> Path | None:
    """The first symbolic link among the folders from `root` down to `target`, or `target` itself."""
    path = root
    for part in target.relative_to(root).parts:
        path = path / part
        if path.is_symlink():
            return path
    return None


def _install(files: dict[Path, Path]) -> None:
    """Copy every staged file next to its target, then rename them all into place (all or nothing)."""
    created: list[Path] = []  # folders made here, removed again if a copy fails
    temporary: dict[Path, Path] = {}
    try:
        for target, staged in files.items():
            missing = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            created += reversed(missing)
            remove_stale(target)  # what a killed run left (the project lock is held)
            temporary[target] = temp = temp_for(target)  # a new file of ours (O_EXCL): never a symlink
            with temp.open("wb") as out, staged.open("rb") as source:
                shutil.copyfileobj(source, out)
            if target.is_file():
                os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
    except BaseException:
        for temp in temporary.values():
            temp.unlink(missing_ok=True)
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    for target, temp in temporary.items():
        os.replace(temp, target)
