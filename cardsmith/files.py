"""Writing project files safely: one writer per project at a time, unique temporary names, atomic
replacement, and temporary files of a killed run removed by the next one.

Every temporary file is named `.<target name>.<random>.tmp` next to its target, so a run can find
and remove what a killed run left behind (`remove_stale`), and two runs never share a name.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Collection, Iterable, Iterator

try:
    import fcntl
except ImportError:  # Windows: no flock; runs in one project are then not serialised
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "project.lock"
MAX_SOURCE_BYTES = 64 << 20  # a card file, deck file or note type's file (the shipped deck's largest: 40 KB)
MAX_RECORD_BYTES = 512 << 20  # a lock file or sync record (a 100,000-card lock has 17 MB)
MAX_TEMP_NAME_BYTES = 200  # of a target's name in its temporary file's (255 with the dots, random part and suffix)
_held: set[int] = set()  # descriptors of project locks this process holds (a forked worker closes them)


def utf8_name(name: str) -> bool:
    """Whether a file name is UTF-8 (Python keeps the bytes of any other name as lone surrogates, which a JSON
    media map or an Anki package cannot hold)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def temp_prefix(target: Path) -> str:
    """`.<target name>.`, the start of its temporary files' names; a name too long to take `.….<random>.tmp` (a file
    system allows 255 bytes: a media file may have them all) is cut, and a digest of it keeps it apart."""
    name = target.name.encode()
    if len(name) > MAX_TEMP_NAME_BYTES:
        name = name[:MAX_TEMP_NAME_BYTES - 17] + b"-" + hashlib.sha256(name).hexdigest()[:16].encode()
    return f".{name.decode(errors='ignore')}."


def temp_for(target: Path, suffix: str = ".tmp") -> Path:
    """A new, empty temporary file next to `target`, with a name no other run uses."""
    fd, name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=suffix, dir=target.parent)
    os.close(fd)
    return Path(name)


def remove_stale(target: Path, keep: Collection[str] = ()) -> None:
    """Remove the temporary files a killed run left next to `target` (call it holding the project lock), but a file
    this run writes there too (`keep`: its name; a media file may be named `.x.png.abcd1234.tmp`)."""
    for leftover in target.parent.glob(f"{glob_escape(temp_prefix(target))}*.tmp"):
        if leftover.name in keep:
            continue
        with contextlib.suppress(OSError):
            if leftover.is_dir() and not leftover.is_symlink():  # a folder of ours (preview builds in one)
                shutil.rmtree(leftover)
            else:
                leftover.unlink()


def glob_escape(name: str) -> str:
    """`name` as a glob pattern that matches only itself."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def write_atomic(target: Path, chunks: Iterable[str], unless_same: bool = False) -> bool:
    """Write text to `target` through a temporary file and an atomic rename; return whether it changed.

    `unless_same`: leave the file (and its time) alone when it already holds exactly this text.
    The text is streamed: it never sits in memory whole.
    """
    remove_stale(target)
    tmp = temp_for(target)
    try:
        digest = hashlib.sha256()
        with tmp.open("w", encoding="utf-8", newline="") as stream:
            for chunk in chunks:
                stream.write(chunk)
                digest.update(chunk.encode("utf-8"))
        if unless_same and target.is_file() and file_digest(target) == digest.digest():
            return False
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, target)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def open_regular(path: Path) -> BinaryIO:
    """A regular file, open for reading; OSError (its strerror says why) for anything else.

    A symlink to /dev/zero would otherwise fill the memory, and a FIFO block the run: both are refused
    without reading (the file is opened non-blocking and looked at first).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):  # a device, FIFO or socket
            raise OSError(errno.EINVAL, "not a regular file", str(path))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_limited(path: Path, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """A regular file's bytes (open_regular); OSError for anything else or more than `limit` bytes."""
    with open_regular(path) as stream:
        if os.fstat(stream.fileno()).st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit >> 20} MB, more than cardsmith reads", str(path))
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit >> 20} MB, more than cardsmith reads", str(path))
    return data


def writable_problem(target: Path) -> str | None:
    """Why a file cannot be written at `target` (asked before the work whose result it is), or None."""
    if target.is_dir():
        return "it is a folder"
    if not target.parent.is_dir():
        return "its folder does not exist"
    if not os.access(target.parent, os.W_OK):
        return "its folder is not writable"
    return None


def file_digest(path: Path) -> bytes:
    """SHA-256 of a file's bytes, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def lock_path(root: Path) -> Path:
    """The file whose lock is held while a command writes into the project."""
    return root / ".cache" / "cardsmith" / LOCK_NAME


def refuse_symlinks(root: Path, target: Path) -> None:
    """Raise BuildError if `target`, or a folder between the project folder `root` and it, is a symbolic
    link: a repository can commit one where cardsmith writes, to make it write outside the project."""
    from .errors import BuildError, Problem, display_path

    path = root
    for part in target.relative_to(root).parts:
        path = path / part
        if path.is_symlink():
            raise BuildError([Problem(display_path(path, root), 0, "is a symbolic link: cardsmith never writes "
                                      "through one (it would write outside the project); remove it")])


def copy_atomic(source: Path, target: Path, keep: Collection[str] = ()) -> None:
    """Copy a file to `target` through a temporary file and a rename (a symlink at `target` is replaced, never
    written through); `keep`: as remove_stale's."""
    remove_stale(target, keep)
    tmp = temp_for(target)
    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@dataclass(frozen=True)
class Rewrite:
    """A project file's new bytes, and the bytes it was read as (None: it did not exist), to see whether it
    changed since."""

    path: Path
    shown: str
    read: bytes | None
    new: bytes


def replace_files(rewrites: list[Rewrite], command: str) -> None:
    """Replace every file (its target, when a symlink) with its new bytes, or create it, unless one changed
    since it was read: an edit saved meanwhile (in an editor, by `command` running again) is never overwritten.

    Hold the project lock. Raises BuildError naming the files left alone.
    """
    from .errors import BuildError, Problem

    temporary: dict[Path, Path] = {}

    def unchanged(rewrite: Rewrite) -> bool:
        try:
            return read_limited(rewrite.path) == rewrite.read
        except FileNotFoundError:
            return rewrite.read is None

    try:
        for rewrite in rewrites:
            target = Path(os.path.realpath(rewrite.path))
            remove_stale(target)  # what a killed run left (the project lock is held)
            temporary[target] = name = temp_for(target)
            name.write_bytes(rewrite.new)
            mode = stat.S_IMODE(target.stat().st_mode) if rewrite.read is not None else 0o666 & ~umask()
            os.chmod(name, mode)
        # Re-read each file just before replacing it.
        changed = [r for r in rewrites if not unchanged(r)]
        if changed:
            raise BuildError([Problem(r.shown, 0, f"changed while `{command}` ran (saved in an editor?): "
                                      f"run `{command}` again") for r in changed])
        for rewrite in rewrites:  # and once more, for an edit saved during this loop
            target = Path(os.path.realpath(rewrite.path))
            if rewrite.read is None:
                try:
                    os.link(temporary[target], target)  # never over a file made meanwhile
                except FileExistsError:
                    changed.append(rewrite)
            elif unchanged(rewrite):
                os.replace(temporary.pop(target), target)
            else:
                changed.append(rewrite)
        if changed:
            raise BuildError([Problem(r.shown, 0, f"changed while `{command}` ran (saved in an editor?): left as "
                                      f"it is, the other files were written; run `{command}` again")
                              for r in changed])
    finally:
        for name in temporary.values():
            os.unlink(name)


def close_inherited_locks() -> None:
    """In a forked worker process: close the project lock it inherited, so that the lock is the command's
    alone (a worker outliving a killed command would otherwise keep every later run waiting)."""
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


@contextlib.contextmanager
def project_lock(root: Path, waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the project-wide lock: a second command that writes (build, ids, import, preview, export, sync)
    in the same project waits for the first.

    `waiting(message)` is called once if another run holds the lock. The lock is an flock, so it is
    released when its holder ends in any way (even kill -9): nothing stale is left to clear by hand.
    """
    if fcntl is None or not root.is_dir():  # no project there: the command says so, and nothing is created
        yield
        return
    path = lock_path(root)
    refuse_symlinks(root, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o666)
    _held.add(fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            if waiting:
                waiting(f"waiting for another cardsmith run in this project to finish (process {holder}) ...")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # releases the lock
