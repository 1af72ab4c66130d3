"""Issue 15: `cardsmith sync --anki-connect`, the issue's scenario against a real, headless Anki desktop.

Needs Anki desktop (`pip install "aqt[qt6]==26.9.3"` into .venv, about 620 MB) and the AnkiConnect
add-on's source (not on PyPI; its public repository is github.com/FooSoft/anki-connect):
`CARDSMITH_ANKICONNECT_DIR=/path/to/anki-connect make test` (the repository, or its plugin/ folder).
Skipped, with the reason, without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import assert_integrity
from sync_scenario import REVIEWED, V1, V2, V2_PLAN, check_v2, contents, notes_by_question, question, scheduling

ADDON_ENV = "CARDSMITH_ANKICONNECT_DIR"
ADDON_CODE = "2055492159"  # AnkiConnect's add-on code: the folder name Anki loads it from

HAVE_ANKI = importlib.util.find_spec("aqt") is not None

pytestmark = [
    pytest.mark.skipif(not os.environ.get(ADDON_ENV), reason=(
        f"set {ADDON_ENV} to AnkiConnect's source (github.com/FooSoft/anki-connect) to run the AnkiConnect test")),
    pytest.mark.skipif(not HAVE_ANKI, reason='needs Anki desktop: .venv/bin/pip install "aqt[qt6]==26.9.3"'),
]

DESKTOP_ENV = {"QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu",
               "QTWEBENGINE_DISABLE_SANDBOX": "1"}
PROFILE = """
import sys
from aqt.profiles import ProfileManager
pm = ProfileManager(ProfileManager.get_created_base_folder(sys.argv[1]))
pm.setupMeta()
pm.setLang("en_US")
pm.create("User 1")
"""


class Desktop:
    """A headless Anki desktop with AnkiConnect on a free local port, in its own base folder."""

    def __init__(self, base: Path):
        self.base = base
        self.path = base / "User 1" / "collection.anki2"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        subprocess.run([sys.executable, "-c", PROFILE, str(base)], check=True, capture_output=True)
        source = Path(os.environ[ADDON_ENV])
        if (source / "plugin" / "__init__.py").is_file():
            source = source / "plugin"
        if not (source / "__init__.py").is_file() or "AnkiConnect" not in (source / "__init__.py").read_text():
            pytest.fail(f"{ADDON_ENV}={os.environ[ADDON_ENV]} holds no AnkiConnect add-on (its plugin/__init__.py)")
        addon = base / "addons21" / ADDON_CODE
        shutil.copytree(source, addon)
        (addon / "meta.json").write_text(json.dumps({"config": {"webBindPort": self.port}}), encoding="utf-8")

    def start(self) -> None:
        env = {**os.environ, **DESKTOP_ENV, "ANKI_SINGLE_INSTANCE_KEY": f"cardsmith-test-{self.port}"}
        self.log = (self.base / "anki.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-c", "import aqt; aqt.run()", "-b", str(self.base)],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        from cardsmith.anki.connect import ActionFailed, Client

        client, deadline = Client(self.url, timeout=5), time.monotonic() + 120
        while True:
            try:
                client.call("version")
                client.call("deckNames")  # the profile's collection is open
                return
            except ActionFailed:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail(f"Anki did not answer: {(self.base / 'anki.log').read_text(errors='replace')[-2000:]}")
                time.sleep(0.5)

    def stop(self) -> None:
        """Quit Anki as a user does (it closes the collection), and wait for it."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self.log.close()

    def call(self, action: str, **params):
        from cardsmith.anki.connect import Client

        return Client(self.url).call(action, **params)


@pytest.fixture
def desktop(tmp_path: Path):
    anki = Desktop(tmp_path / "anki")
    anki.start()
    try:
        yield anki
    finally:
        anki.stop()


def sync(project, desktop: Desktop, *args: str, code: int = 0):
    result = project.run("sync", "--anki-connect", desktop.url, *args)
    assert result.exit_code == code, result.output
    return result


def learner_v1_work(anki: Desktop) -> None:
    """The learner's work between v1 and v2, done in the running Anki (as its GUI would)."""
    cards = anki.call("findCards", query='"deck:Test Deck"')
    info = anki.call("cardsInfo", cards=cards)
    reviewed = [c["cardId"] for c in info if question(c["fields"]["Front"]["value"]) in REVIEWED]
    assert all(anki.call("answerCards", answers=[{"cardId": cid, "ease": 3} for cid in reviewed]))
    keep = next(c["note"] for c in info if question(c["fields"]["Front"]["value"]) == "Keep me?")
    anki.call("addTags", notes=[keep], tags="mine marked")
    hand = [c["cardId"] for c in info if question(c["fields"]["Front"]["value"]) == "Moved by hand?"]
    anki.call("changeDeck", cards=hand, deck="Elsewhere")


def stored(path: Path) -> dict:
    """What a sync may change, as stored (Anki itself rewrites its config and deck state on every start)."""
    found = contents(path)
    return {table: found[table] for table in ("notes", "cards", "revlog", "notetypes", "fields", "templates")}


def test_the_issue_scenario_through_ankiconnect(project, desktop):
    project.write(V1)
    project.build()
    first = sync(project, desktop)
    assert first.output.splitlines()[0] == "Test Deck: 6 added, 0 updated, 0 moved, 0 deleted, 0 suspended, 0 untouched"
    learner_v1_work(desktop)

    refused = project.run("sync", "--collection", str(desktop.path))  # Anki holds the collection
    assert refused.exit_code == 1 and "the collection is open in Anki" in refused.output

    desktop.stop()
    before, schedule_before, rows = notes_by_question(desktop.path), scheduling(desktop.path), stored(desktop.path)
    options_before = contents(desktop.path)["deck_config"]
    project.write(V2)
    project.build("--allow-deletions")  # v2 deletes 2 of v1's 6 cards
    desktop.start()
    dry = sync(project, desktop, "--dry-run")
    assert dry.output.splitlines()[:-1] == V2_PLAN
    desktop.stop()
    assert stored(desktop.path) == rows  # the dry run changed nothing

    desktop.start()
    real = sync(project, desktop)
    assert real.output.splitlines()[:-1] == V2_PLAN
    assert "  " + V2_PLAN[2].strip() in sync(project, desktop).output  # a fixed point: only the kept card is told
    desktop.stop()
    check_v2(before, notes_by_question(desktop.path), schedule_before, scheduling(desktop.path))
    assert contents(desktop.path)["deck_config"] == options_before  # the learner's deck options
    from anki.collection import Collection

    col = Collection(str(desktop.path))
    try:
        assert_integrity(col)
    finally:
        col.close()


def test_a_step_anki_refuses_stops_the_sync_and_says_what_was_applied(project, desktop, monkeypatch):
    from cardsmith.anki.connect import ActionFailed, Client

    project.write(V1)
    sync(project, desktop)
    learner_v1_work(desktop)
    project.write(V2)
    real_call = Client.call

    def refusing(self, action, **params):
        if action == "changeDeck":
            raise ActionFailed("changeDeck: refused for the test")
        return real_call(self, action, **params)

    monkeypatch.setattr(Client, "call", refusing)
    stopped = sync(project, desktop, code=1)
    lines = stopped.output.splitlines()
    assert lines[0].endswith("the sync stopped at a step Anki refused: changeDeck: refused for the test")
    assert lines[1:] == ["Applied before it stopped:", "  Test Deck: 1 note added", "  Test Deck: 1 note updated",
                         "Not applied: everything after that. Run the sync again to finish (it plans from what the "
                         "collection holds now)."]
    monkeypatch.setattr(Client, "call", real_call)
    again = sync(project, desktop).output.splitlines()
    assert again[0] == "Test Deck: 0 added, 0 updated, 1 moved, 1 deleted, 1 suspended, 4 untouched"



def test_images_reach_the_media_folder_through_ankiconnect(project, desktop):
    from bench.generate import png

    from sync_scenario import media_of, with_image

    project.write(with_image(1))
    sync(project, desktop)
    project.write(with_image(2))
    assert "0 added, 1 updated" in sync(project, desktop).output
    desktop.stop()
    assert media_of(desktop.path)[1] == png(2)
