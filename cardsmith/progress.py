"""A progress bar that appears only on a terminal, and only once the work has taken over a second."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

import click

DELAY = 1.0


class Progress:
    """Callable progress counter: `progress(n)` after each unit of work; `close()` at the end."""

    def __init__(self, label: str, total: int = 0, stream: IO[str] | None = None, delay: float = DELAY):
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.done = 0
        self.started = time.monotonic()
        self.bar: Any = None
        self.enabled = _isatty(self.stream)

    def set_total(self, total: int) -> None:
        """Set how many units the whole job has (known only once the project is loaded; a sync learns
        more once it has planned, so the bar's length follows)."""
        self.total = total
        if self.bar is not None:
            self.bar.length = total

    def __call__(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled or self.total <= 0:
            return
        if self.bar is None:
            if time.monotonic() - self.started < self.delay:
                return
            self.bar = click.progressbar(length=self.total, label=self.label, file=self.stream)
            self.bar.__enter__()
            self.bar.update(self.done)
        else:
            self.bar.update(count)

    def close(self) -> None:
        """Finish the bar (if one was shown) so that later output starts on a fresh line."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
