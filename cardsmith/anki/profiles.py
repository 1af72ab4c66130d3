"""Where Anki desktop keeps the collection of its default profile, on Linux, macOS and Windows.

As Anki finds its folder (aqt/profiles.py): `$ANKI_BASE`, else `%APPDATA%\\Anki2` on Windows,
`~/Library/Application Support/Anki2` on macOS, `$XDG_DATA_HOME/Anki2` (or `~/.local/share/Anki2`)
elsewhere; one folder per profile, holding `collection.anki2`. The default profile is the one
Anki opened last (recorded in `prefs21.db`), or the only one.
"""

from __future__ import annotations

import os
import pickle
import platform
import sqlite3
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

from ..errors import BuildError, Problem


def anki_base(env: Mapping[str, str] | None = None, system: str | None = None, home: Path | None = None) -> Path:
    """Anki's base folder (the arguments stand in for this machine's, in tests)."""
    env = os.environ if env is None else env
    system = system or platform.system()
    home = home or Path.home()
    if env.get("ANKI_BASE"):
        return Path(env["ANKI_BASE"])
    if system == "Windows":
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "Anki2"
    if system == "Darwin":
        return home / "Library" / "Application Support" / "Anki2"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "Anki2"


def default_collection(base: Path) -> tuple[Path, str]:
    """The default profile's collection, and a phrase saying which profile that is."""
    profiles = sorted(p.name for p in base.iterdir() if (p / "collection.anki2").is_file()) if base.is_dir() else []
    if not profiles:
        raise BuildError([Problem(str(base), 0, "no Anki profile with a collection here: give its file with "
                                                "--collection PATH, or sync into a running Anki with --anki-connect")])
    last = last_profile(base / "prefs21.db")
    if last in profiles:
        chosen, why = last, "the profile Anki opened last"
    elif len(profiles) == 1:
        chosen, why = profiles[0], "the only profile"
    else:
        raise BuildError([Problem(str(base), 0, f"several Anki profiles ({', '.join(profiles)}): choose one with "
                                                f"--collection {base / profiles[0] / 'collection.anki2'}")])
    return base / chosen / "collection.anki2", f'profile "{chosen}", {why}'


def last_profile(prefs: Path) -> str | None:
    """The profile Anki opened last, from its prefs21.db (None when it cannot be told)."""
    if not prefs.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{quote(str(prefs.resolve()))}?mode=ro", uri=True, timeout=0.2)
        try:
            row = conn.execute("SELECT CAST(data AS BLOB) FROM profiles WHERE name = '_global'").fetchone()
        finally:
            conn.close()
        meta = _PlainUnpickler(row[0]).load() if row and isinstance(row[0], bytes) else None
    except (sqlite3.Error, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError):
        return None
    name = meta.get("last_loaded_profile_name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


class _PlainUnpickler(pickle.Unpickler):
    """Reads Anki's pickled preferences as plain data: no class is ever loaded (a hostile file stays inert)."""

    def __init__(self, data: bytes):
        import io

        super().__init__(io.BytesIO(data))

    def find_class(self, module: str, name: str):  # type: ignore[override]
        if module == "sip" or module.endswith(".sip"):  # Qt values (window sizes): not needed here
            return lambda *args, **kwargs: None
        raise pickle.UnpicklingError(f"{module}.{name} is not read")
