"""Rendering in worker processes: forked with the renderer, results in order.

A worker that dies (out of memory, kill -9) ends the build with a BuildError naming it:
concurrent.futures notices a dead worker, where multiprocessing.Pool waits forever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Iterator

from .errors import BuildError, Problem
from .files import close_inherited_locks
from .model import Rendered, ResolvedNote
from .render import Renderer

PR_SET_PDEATHSIG = 1  # linux/prctl.h: the signal a process gets when its parent dies
_worker_renderer: Renderer | None = None  # set before the fork: each worker inherits it


def _render_in_worker(note: ResolvedNote) -> tuple[Rendered | None, list[Problem]]:
    """Render one note in a worker process (the renderer is inherited through fork)."""
    assert _worker_renderer is not None
    return _worker_renderer.render(note)


def render_parallel(renderer: Renderer, notes: list[ResolvedNote], workers: int, chunk: int
                    ) -> Iterator[tuple[Rendered | None, list[Problem]]]:
    """Render notes in `workers` processes, `chunk` notes at a time; raise BuildError naming a worker that died."""
    import multiprocessing  # here: most builds render too few cards to need them (their import costs)
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _worker_renderer
    _worker_renderer = renderer
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(os.getpid(),))
    finished = 0
    try:
        results = pool.map(_render_in_worker, notes, chunksize=chunk)
        processes = dict(getattr(pool, "_processes", None) or {})  # started by map (fork starts them all)
        try:
            for result in results:
                yield result
                finished += 1
        except BrokenProcessPool:
            pool.shutdown(wait=True)  # the pool's own thread reaps the workers: their exit codes are known after
            source = notes[finished]
            raise BuildError([Problem(source.shown_path, source.line, (
                f"{_dead_worker(processes)} while rendering the cards from here on; nothing was written. Build "
                "again (with CARDSMITH_JOBS=1 to render in one process, which needs less memory)"))]) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _worker_renderer = None


def _start_worker(parent: int) -> None:
    """In a new worker: let go of the project lock, and die with the command (a worker left running after
    the command was killed would hold the lock, and wait forever on a queue nobody reads)."""
    close_inherited_locks()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the command died before the line above took effect
        os._exit(1)


def _dead_worker(processes: dict) -> str:
    """Which render worker died, and how (as far as its exit code tells)."""
    for pid, process in sorted(processes.items()):
        code = process.exitcode
        if code and code != -signal.SIGTERM:  # the pool terminates the others itself
            try:
                how = f"was killed by signal {-code} ({signal.Signals(-code).name}: out of memory, or kill -9?)"
            except ValueError:
                how = f"exited with status {code}"
            return f"render worker process {pid} {how}"
    return "a render worker process died (killed: out of memory, or kill -9?)"
