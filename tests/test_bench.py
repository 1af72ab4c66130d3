"""The benchmark (issue 6) runs end to end on a small deck and writes its figures into RESULTS.md.

Only that it works and reports: the speed targets are met in `make bench`, never asserted here.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench.run import END, START, write_report
from conftest import REPO

PROSE_BEFORE = "# Results\n\nWritten by hand.\n\n"
PROSE_AFTER = "\n\nWhat the figures mean, by hand.\n"


def test_report_goes_between_the_markers(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(f"{PROSE_BEFORE}{START}\n\nold figures\n{END}{PROSE_AFTER}", encoding="utf-8")
    write_report("| new | figures |\n", results)
    assert results.read_text(encoding="utf-8") == f"{PROSE_BEFORE}{START}\n\n| new | figures |\n\n{END}{PROSE_AFTER}"
    alone = tmp_path / "figures.md"
    write_report("| new | figures |\n", alone)  # a file without markers gets the figures alone
    assert alone.read_text(encoding="utf-8") == "| new | figures |\n"


@pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="the benchmark measures peak memory with /usr/bin/time")
def test_benchmark_runs_on_a_small_deck(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text(f"{PROSE_BEFORE}{START}\n{END}{PROSE_AFTER}", encoding="utf-8")
    work = tmp_path / "work"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--sizes", "100", "--repeats", "1", "--work", str(work),
                           "--out", str(results)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = results.read_text(encoding="utf-8")
    assert text.startswith(PROSE_BEFORE + START) and text.endswith(END + PROSE_AFTER)
    assert "- Versions: genanki " in text and "- Command: `python -m bench.run --sizes 100" in text
    rows = re.findall(r"^\| 100 \| (.+?) \| ([\d.]+) \| ([\d.]+) \| (\d+) \| ([\d.]+) \|$", text, re.M)
    assert [r[0] for r in rows] == ["floor (genanki alone)", "cold build (empty cache)", "rebuild, nothing changed",
                                    "rebuild, one card changed", "`cardsmith check`",
                                    "parse + render via the cache, no write"]
    assert all(float(wall) > 0 and int(rss) > 0 for _, wall, _, rss, _ in rows)
    assert rows[0][2] == "1.00" and rows[0][4] == "1.00"  # the floor is the unit
    # The floor wrote the notes of the first build (exported from it, rendered); the package left
    # in dist/ is the last build's, after the one changed card.
    floor, built = _notes(work / "floor-100.apkg", tmp_path), _notes(work / "project-100/dist/bench.apkg", tmp_path)
    assert len(built) == 100 and {guid for guid, _ in floor} == {guid for guid, _ in built}
    assert len(floor - built) == 1 and " Edit 0." in next(iter(built - floor))[1]


def _notes(apkg: Path, tmp: Path) -> set[tuple[str, str]]:
    """(GUID, fields) of every note in a package."""
    with zipfile.ZipFile(apkg) as archive:
        archive.extract("collection.anki2", tmp / apkg.stem)
    conn = sqlite3.connect(tmp / apkg.stem / "collection.anki2")
    try:
        return set(conn.execute("SELECT guid, flds FROM notes"))
    finally:
        conn.close()


def test_alternative_engines_run_on_the_card_model():
    """`make bench` also measures other Markdown engines on the same cards (bench/alternative.py; its engines
    are the `bench` extra, so without them there is nothing to run)."""
    pytest.importorskip("cmarkgfm")
    pytest.importorskip("mistune")
    result = subprocess.run([sys.executable, "-m", "bench.alternative", "60"], capture_output=True, text=True,
                            cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^60 cards \(120 Markdown fields\), ms of CPU per card:", result.stdout, re.M)
    assert result.stdout.count(": ") >= 4
