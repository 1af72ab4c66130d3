"""Screenshot one card of the shipped deck as Anki renders it (Anki's templates and MathJax).

    .venv/bin/python scripts/screenshot_card.py CARD_ID OUT.png [--night] [--question]

Builds the deck into a temp folder, imports it into a fresh collection with the `anki` package,
and shows the card in the same 412 px headless-Chromium reviewer page the test suite uses
(tests/browsercheck.py). Used for the screenshot in the README.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import genanki  # noqa: E402
from anki.collection import Collection  # noqa: E402
from browsercheck import DESKTOP_BODY, NIGHT_CLASSES, MediaServer, anki_web_dir, launch  # noqa: E402
from conftest import import_apkg  # noqa: E402

from cardsmith.config import load_decks  # noqa: E402

SHOW_JS = """
const [html, bodyClass] = arguments; const done = arguments[arguments.length - 1];
document.body.className = bodyClass;
const qa = document.getElementById('qa'); qa.innerHTML = html;
MathJax.startup.promise.then(() => MathJax.typesetPromise([qa]))
  .then(() => Promise.all([...qa.querySelectorAll('img')].map((img) => img.decode().catch(() => null))))
  .then(() => done(Math.ceil(qa.getBoundingClientRect().bottom) + 16));
"""


def main(card_id: str, out: Path, night: bool, question: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="cardsmith-shot-"))
    for folder in ("cards", "decks", "templates"):
        shutil.copytree(REPO / folder, work / folder)
    subprocess.run([sys.executable, "-m", "cardsmith", "build", "--root", str(work)], check=True,
                   capture_output=True)
    deck = next(d for d in load_decks(work) if d.slug == "deep-learning")
    (work / "anki").mkdir()
    col = Collection(str(work / "anki" / "collection.anki2"))
    import_apkg(col, work / "dist" / "deep-learning.apkg")
    guid = genanki.guid_for(deck.deck_id, card_id)
    note_ids = [n for n in col.find_notes("") if col.get_note(n).guid == guid]
    if not note_ids:
        sys.exit(f"no card with id {card_id!r}")
    card = col.get_note(note_ids[0]).cards()[0]
    html = col.media.escape_media_filenames(card.question() if question else card.answer())
    body = DESKTOP_BODY.format(ord=card.ord + 1) + (NIGHT_CLASSES if night else "")
    driver = launch(work / "chromium")
    try:
        with MediaServer(Path(col.media.dir()), anki_web_dir()) as server:
            driver.get(server.url + "/__reviewer.html")
            height = driver.execute_async_script(SHOW_JS, html, body)
            time.sleep(0.3)
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 412, "height": min(int(height), 1600), "deviceScaleFactor": 2, "mobile": True})
            driver.save_screenshot(str(out))
    finally:
        driver.quit()
        col.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    main(args[0], Path(args[1]), "--night" in sys.argv, "--question" in sys.argv)
