"""Anki desktop's own MathJax build and configuration, taken from the `aqt` wheel and cached."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# The Anki desktop release whose web files we use; keep it equal to the `anki` pin in setup.cfg.
AQT_VERSION = "26.9.3"
WEB_PREFIX = "_aqt/data/web/"
# What a card page needs: MathJax, Anki's MathJax configuration and the reviewer's own CSS.
WANTED = ("js/mathjax.js", "js/vendor/mathjax/", "css/reviewer.css", "css/webview.css")


class MathJaxUnavailable(RuntimeError):
    """Anki's web files are neither installed, nor cached, nor downloadable."""


def cache_dir() -> Path:
    """Where the extracted files live: $CARDSMITH_CACHE or the user's cache folder."""
    base = os.environ.get("CARDSMITH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "cardsmith")
    return Path(base) / f"aqt-{AQT_VERSION}-web"


def installed_web_dir() -> Path | None:
    """Anki's web folder (with js/ and css/) if present: an installed `aqt` or the cache."""
    try:
        import _aqt  # type: ignore[import-not-found]  # only when Anki desktop (aqt) is installed
        # A namespace package (no __init__.py): no __file__, but its folders in __path__.
        candidates = [Path(folder) / "data" / "web" for folder in _aqt.__path__]
    except ImportError:
        candidates = []
    candidates.append(cache_dir())
    for folder in candidates:
        if (folder / "js" / "mathjax.js").is_file() and (folder / "js" / "vendor" / "mathjax").is_dir():
            return folder
    return None


def web_dir(fetch: bool = True) -> Path:
    """Anki's web folder; download the `aqt` wheel with pip once (no dependencies) if needed."""
    found = installed_web_dir()
    if found or not fetch:
        if found:
            return found
        raise MathJaxUnavailable(f"Anki's MathJax is not in {cache_dir()}; run `python -m cardsmith.commands.mathjax`")
    target = cache_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   f"aqt=={AQT_VERSION}", "-d", tmp]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("aqt-*.whl"))
        if done.returncode != 0 or not wheels:
            raise MathJaxUnavailable(f"could not download aqt=={AQT_VERSION} for Anki's MathJax:\n"
                                     f"{done.stderr.strip()}")
        staging = Path(tmp) / "web"
        _extract(wheels[0], staging)
        if not target.exists():
            staging.replace(target)
    return target


def _extract(wheel: Path, dest: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            inner = name[len(WEB_PREFIX):] if name.startswith(WEB_PREFIX) else ""
            if inner and not name.endswith("/") and inner.startswith(WANTED):
                path = dest / inner
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(name))


def copy_mathjax(dest: Path) -> None:
    """Copy Anki's MathJax and its configuration to dest/js/ (for an offline site)."""
    source = web_dir()
    (dest / "js").mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "js" / "mathjax.js", dest / "js" / "mathjax.js")
    shutil.copytree(source / "js" / "vendor" / "mathjax", dest / "js" / "vendor" / "mathjax", dirs_exist_ok=True)


def script_tags(base: str, nonce: str = "") -> str:
    """Load MathJax as Anki's reviewer does (its config, then tex-chtml-full) from the folder at `base`.

    `nonce`: the page's Content-Security-Policy nonce, so that these scripts run and no others.
    """
    attr = f' nonce="{nonce}"' if nonce else ""
    return (f'<script{attr} src="{base}/js/mathjax.js"></script>\n'
            f'<script{attr}>MathJax.loader.paths.mathjax = "{base}/js/vendor/mathjax";</script>\n'
            f'<script{attr} src="{base}/js/vendor/mathjax/tex-chtml-full.js"></script>\n')


if __name__ == "__main__":
    print(web_dir())
