"""Issue 12, item 6: processes. A dead render worker ends the build with an error, never a hang; two runs in one
project wait for each other and leave a lock that agrees with the package; temporary files have unique names and
what a killed build leaves is removed by the next one."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from cardsmith.files import project_lock

from conftest import REPO

HANG = 120  # seconds: far beyond what these builds take; reaching it means a hang


def cardsmith(root: Path, *args: str, prelude: str = "", env: dict | None = None, **popen) -> subprocess.Popen:
    """Start `cardsmith ARGS --root ROOT` in its own process, after running `prelude` (test instrumentation)."""
    code = textwrap.dedent(prelude) + "\nfrom cardsmith.cli import main\nmain()\n"
    return subprocess.Popen([sys.executable, "-c", code, args[0], "--root", str(root), *args[1:]], cwd=REPO,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **popen)


def finish(process: subprocess.Popen) -> tuple[int, str]:
    """Wait for the process to end (killing it, and its workers, if it hangs); its exit code and output."""
    try:
        out, err = process.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return process.returncode, out + err


def cards(count: int, doomed: int | None = None) -> str:
    return "".join(f"## Question {i}?\n<!-- id: {'doomed' if i == doomed else f'q-{i}'} -->\n\nAnswer ${i}x$.\n\n"
                   for i in range(count))


KILL_DOOMED = """
    import os, signal
    from cardsmith import cache, render
    cache.PARALLEL_MIN, cache.CHUNK = 2, 1
    parent, original = os.getpid(), render.Renderer.render
    def render_or_die(self, card):
        if card.card_id == "doomed" and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        return original(self, card)
    render.Renderer.render = render_or_die
"""


def test_killed_render_worker_ends_the_build_with_an_error(project):
    project.write({"cards/test/a.md": cards(6)})
    project.build()
    before = [(project.root / p).read_bytes() for p in ("dist/test.apkg", "decks/test.lock")]
    project.write({"cards/test/a.md": cards(12, doomed=9)})
    code, output = finish(cardsmith(project.root, "build", prelude=KILL_DOOMED, env={"CARDSMITH_JOBS": "2"}))
    assert code == 1, output
    assert re.search(r"^cards/test/a\.md:\d+: render worker process \d+ was killed by signal 9 \(SIGKILL: out of "
                     r"memory, or kill -9\?\) while rendering the cards from here on; nothing was written\. Build again "
                     r"\(with CARDSMITH_JOBS=1 to render in one process, which needs less memory\)$", output, re.M), output
    assert "Traceback" not in output
    assert [(project.root / p).read_bytes() for p in ("dist/test.apkg", "decks/test.lock")] == before


SLOW_WORKERS = """
    import os, sys, time
    from cardsmith import cache, render
    cache.PARALLEL_MIN, cache.CHUNK = 2, 1
    parent, original = os.getpid(), render.Renderer.render
    def render_slowly(self, card):
        if os.getpid() != parent:
            print(f"worker {os.getpid()} rendering", file=sys.stderr, flush=True)
            time.sleep(60)
        return original(self, card)
    render.Renderer.render = render_slowly
"""


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers die with the command through prctl (Linux)")
def test_render_workers_die_with_a_killed_build_and_free_the_project(project):
    """kill -9 of the command (or `timeout`'s SIGTERM) must not leave workers that hold the project lock."""
    project.write({"cards/test/a.md": cards(12)})
    process = cardsmith(project.root, "build", prelude=SLOW_WORKERS, env={"CARDSMITH_JOBS": "2"})
    line = wait_for_line(process, "rendering")
    worker = int(line.split()[1])
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)
    code, output = finish(cardsmith(project.root, "build"))
    assert code == 0 and "waiting" not in output, output


def wait_for_line(process: subprocess.Popen, text: str) -> str:
    """Read the process's stderr until a line contains `text`."""
    deadline = time.monotonic() + HANG
    seen = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 1)
        if ready:
            line = process.stderr.readline()
            seen += line
            if text in line:
                return line
            if not line and process.poll() is not None:
                break
    raise AssertionError(f"never said {text!r}: {seen}")


WRITERS = [("ids",), ("build",), ("preview",), ("export", "--format", "csv"),
           ("import", "--out", "cards/imported", "no-such.apkg"), ("sync", "--collection", "no-such.anki2")]


def test_second_run_waits_for_the_first(project):
    """Every command that writes into the project waits while another run holds it, and goes on once it is done."""
    project.write({"cards/test/a.md": cards(3) + "## No id yet?\n\nAnswer.\n"})
    for command in WRITERS:
        with project_lock(project.root):
            process = cardsmith(project.root, *command)
            line = wait_for_line(process, "waiting for another cardsmith run in this project to finish")
            assert f"(process {os.getpid()})" in line
            time.sleep(0.5)
            assert process.poll() is None  # still waiting
        code, output = finish(process)
        assert code == (1 if command[0] in ("import", "sync") else 0), output  # those two name missing files
    assert "<!-- id: no-id-yet -->" in (project.root / "cards/test/a.md").read_text()
    assert (project.dist / "test.apkg").exists() and (project.dist / "preview" / "index.html").exists()
    assert (project.dist / "test.csv").exists()


def test_a_missing_project_folder_is_not_created(tmp_path):
    from click.testing import CliRunner

    from cardsmith.cli import main

    for command in ("build", "ids"):
        result = CliRunner().invoke(main, [command, "--root", str(tmp_path / "missing")])
        assert result.exit_code == 1 and "no deck definitions" in result.output
    assert not (tmp_path / "missing").exists()


def package_mods(apkg: Path) -> dict[str, int]:
    with tempfile.NamedTemporaryFile(suffix=".anki2") as db:
        db.write(zipfile.ZipFile(apkg).read("collection.anki2"))
        db.flush()
        conn = sqlite3.connect(db.name)
        try:
            return dict(conn.execute("SELECT guid, mod FROM notes"))
        finally:
            conn.close()


def test_builds_at_once_leave_a_lock_that_agrees_with_the_package(project):
    project.write({"cards/test/a.md": cards(30)})
    project.build()
    for round_ in range(3):
        project.write({"cards/test/a.md": cards(30).replace("Answer $0x$", f"Answer $0x$, round {round_}")})
        time.sleep(1.05)  # each round a new second: a build that read an older lock would give other times
        processes = [cardsmith(project.root, "build") for _ in range(3)]
        for process in processes:
            code, output = finish(process)
            assert code == 0, output
        lock = json.loads((project.root / "decks/test.lock").read_text())
        assert package_mods(project.dist / "test.apkg") == {r["guid"]: r["mod"] for r in lock["cards"].values()}
        assert not list(project.root.rglob("*.tmp"))


KILL_WHILE_ZIPPING = """
    import os, signal
    from cardsmith import package
    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)
    package._add_file = die  # the collection is written; the package is being zipped
"""


def test_build_killed_while_writing_the_package(project):
    """kill -9 during the package write: the previous package and lock stay; the next build removes the leftovers."""
    project.write({"cards/test/a.md": cards(4)})
    project.build()
    before = [(project.root / p).read_bytes() for p in ("dist/test.apkg", "decks/test.lock")]
    project.write({"cards/test/a.md": cards(5)})
    process = cardsmith(project.root, "build", prelude=KILL_WHILE_ZIPPING)
    code, _ = finish(process)
    assert code == -signal.SIGKILL
    assert [(project.root / p).read_bytes() for p in ("dist/test.apkg", "decks/test.lock")] == before
    left = [p.name for p in project.dist.iterdir() if p.name.endswith(".tmp")]
    assert len(left) == 2 and all(name.startswith(".test.apkg.") for name in left)  # the collection and the zip
    result = project.build()
    assert "1 new" in result.output
    assert not [p for p in project.root.rglob("*") if p.name.endswith(".tmp")]


def test_leftovers_of_killed_runs_are_removed_even_when_up_to_date(project):
    project.write({"cards/test/a.md": cards(2)})
    project.build()
    stale = [project.dist / ".test.apkg.k1ll3d.tmp", project.root / "decks/.test.lock.k1ll3d.tmp"]
    for path in stale:
        path.write_bytes(b"left by a killed build")
    assert "up to date" in project.build().output
    assert not any(path.exists() for path in stale[:1])
    project.write({"cards/test/a.md": cards(3)})
    project.build()
    assert not any(path.exists() for path in stale)


def test_temporary_files_have_unique_names_and_never_stay(tmp_path):
    """Two writers of one file never share a temporary file (the lock's used to be `.<name>.tmp`), and a write
    that fails half-way leaves the file as it was and no temporary file."""
    import pytest

    from cardsmith.files import temp_for, write_atomic

    target = tmp_path / "x.lock"
    names = {temp_for(target) for _ in range(50)}
    assert len(names) == 50 and all(n.name.startswith(".x.lock.") and n.name.endswith(".tmp") for n in names)
    for name in names:
        name.unlink()
    assert write_atomic(target, ["first"]) and not write_atomic(target, ["first"], unless_same=True)

    def failing():
        yield "half of it"
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        write_atomic(target, failing())
    assert target.read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["x.lock"]


def test_a_name_of_255_bytes_gets_temporary_files_of_its_own(tmp_path):
    """A file system allows 255 bytes: the temporary name cuts such a name and tells two of them apart by a digest,
    so a killed run's leftover of one is removed and the other's never."""
    from cardsmith.files import remove_stale, temp_for

    first, second = tmp_path / ("é" * 100 + "a" * 55), tmp_path / ("é" * 100 + "b" * 55)
    temps = [temp_for(first), temp_for(second)]
    assert all(len(t.name.encode()) <= 255 for t in temps) and temps[0].name[:80] == temps[1].name[:80]
    remove_stale(first)
    assert [t.exists() for t in temps] == [False, True]


def test_leftovers_of_killed_ids_and_preview_are_removed(project):
    """A killed `ids` or `preview` leaves `.<name>.<random>.tmp` files (a folder, for preview): the
    next run of it removes them, and never anything else."""
    project.write({"cards/test/a.md": cards(2) + "## No id yet?\n\nAnswer.\n"})
    card_tmp = project.root / "cards/test/.a.md.k1ll3d.tmp"
    card_tmp.write_text("left by a killed ids")
    keep = project.root / "cards/test/.a.md.notes"  # not a temporary file of ours
    keep.write_text("mine")
    assert project.run("ids").exit_code == 0
    assert not card_tmp.exists() and keep.read_text() == "mine"

    site_tmp = project.dist / ".preview.k1ll3d.tmp"
    (site_tmp / "site").mkdir(parents=True)
    (site_tmp / "site" / "index.html").write_text("half a preview")
    assert project.run("preview").exit_code == 0
    assert not site_tmp.exists() and (project.dist / "preview" / "index.html").exists()
