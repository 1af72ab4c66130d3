"""List every side of the shipped deck that does not fit a 412 px phone screen.

    .venv/bin/python scripts/phone_check.py [CARD_ID_SUBSTRING]

Builds the deck, imports it into a fresh collection with the `anki` package and renders every
card side in headless Chromium (tests/browsercheck.py) with `sideways=True`: a code block, table
or display formula that scrolls sideways is listed, as are MathJax errors and raw TeX.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from anki.collection import Collection  # noqa: E402
from browsercheck import MediaServer, anki_web_dir, card_sides, launch, render_problems  # noqa: E402
from conftest import import_apkg  # noqa: E402
from test_browser_render import labeller  # noqa: E402

from cardsmith.pipeline import Project  # noqa: E402


def main(only: str) -> int:
    work = Path(tempfile.mkdtemp(prefix="cardsmith-phone-"))
    try:
        root = work / "repo"
        for folder in ("cards", "decks", "templates"):
            shutil.copytree(REPO / folder, root / folder)
        Project(root).build(work / "out")
        (work / "col").mkdir()
        col = Collection(str(work / "col" / "collection.anki2"))
        for package in sorted((work / "out").glob("*.apkg")):
            import_apkg(col, package)
        sides = [s for s in card_sides(col, labeller(root)) if only in s.label]
        driver = launch(work / "chromium")
        try:
            with MediaServer(Path(col.media.dir()), anki_web_dir()) as server:
                problems = render_problems(driver, server, sides, sideways=True)
        finally:
            driver.quit()
        col.close()
        print("\n".join(problems))
        print(f"{len(problems)} problems in {len(sides)} sides", file=sys.stderr)
        return 1 if problems else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
