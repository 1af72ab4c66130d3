"""The bad-input corpus: each tests/bad_inputs/<case>/project/ is laid over a small built project and run
through `check`, `check --strict` and `build`; the output must be exactly <case>/expected.txt.

Never a traceback; `check` writes nothing; a failed build leaves the previous .apkg and lock file as they
were and no temporary file behind. `CARDSMITH_BLESS=1 pytest tests/test_bad_inputs.py` rewrites the
expected files (review the diff before committing it).
"""

from __future__ import annotations

import os
import re
import shutil
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsmith.cli import main

from conftest import DECK_YAML, REPO

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
GOOD = "## What is a tensor?\n<!-- id: tensor -->\n\nAn n-dimensional array.\n"
LINE_RE = re.compile(r"^[^\s:][^:]*:\d+: \S")
SUMMARY_RE = re.compile(r"^\d+ errors?(, \d+ warnings?)?[ .;]")
GENERATED = {
    "huge-card": lambda: {"cards/test/b.md": "## What is in a 1 MB answer?\n<!-- id: huge -->\n\n"
                          + "All work and no play makes a long card. " * 26000 + "\n"},
    "deeply-nested-list": lambda: {"cards/test/b.md": "## How deep does this list go?\n<!-- id: deep-list -->\n\n"
                                   + "".join("    " * i + f"- level {i}\n" for i in range(90))},
    "deeply-nested-quote": lambda: {"cards/test/b.md": "## How deep does this quote go?\n<!-- id: deep-quote -->\n\n"
                                    + "".join("> " * i + f"level {i}\n" for i in range(1, 131))},
}
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def invoke(root: Path, *args: str):
    """Run the CLI as a user would; a traceback of any kind fails the test."""
    result = CliRunner().invoke(main, [args[0], "--root", str(root), *args[1:]], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail("".join(traceback.format_exception(result.exception)))
    return result


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under the project, by relative path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def overlay(root: Path, case: str) -> None:
    """Lay the case's files over the project."""
    source = CORPUS / case / "project"
    if source.is_dir():
        shutil.copytree(source, root, dirs_exist_ok=True)
    for name, text in GENERATED.get(case, dict)().items():
        (root / name).write_text(text, encoding="utf-8")


def transcript(root: Path) -> str:
    """What `check`, `check --strict` and `build` print, with their exit codes (build time elided)."""
    parts = []
    for args in (("check",), ("check", "--strict"), ("build",)):
        before = snapshot(root)
        result = invoke(root, *args)
        output = re.sub(r"\(\d+\.\d s\)", "(… s)", result.output)
        parts.append(f"$ cardsmith {' '.join(args)}\n{output}[exit {result.exit_code}]\n")
        if args[0] == "check":
            assert snapshot(root) == before, "check wrote or changed a file"
        for line in output.splitlines():
            if args[0] == "check" or result.exit_code:
                assert LINE_RE.match(line) or SUMMARY_RE.match(line), line
    return "".join(parts)


@pytest.fixture(scope="module")
def built_base(tmp_path_factory) -> Path:
    """A built project with one good card (copied for every case)."""
    root = tmp_path_factory.mktemp("base") / "proj"
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "decks").mkdir()
    (root / "decks" / "test.yaml").write_text(DECK_YAML.lstrip("\n"), encoding="utf-8")
    (root / "cards" / "test").mkdir(parents=True)
    (root / "cards" / "test" / "a.md").write_text(GOOD, encoding="utf-8")
    assert invoke(root, "build").exit_code == 0
    return root


@pytest.mark.parametrize("case", CASES)
def test_bad_input(built_base: Path, tmp_path: Path, case: str):
    root = tmp_path / "proj"
    shutil.copytree(built_base, root)
    apkg, lock = root / "dist" / "test.apkg", root / "decks" / "test.lock"
    apkg_before, lock_before = apkg.read_bytes(), lock.read_bytes()
    overlay(root, case)
    actual = transcript(root)
    expected_path = CORPUS / case / "expected.txt"
    if os.environ.get("CARDSMITH_BLESS") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")
    if actual.rstrip().endswith("[exit 1]"):
        assert apkg.read_bytes() == apkg_before
        assert lock.read_bytes() == lock_before
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_every_case_has_expected_output():
    missing = [case for case in CASES if not (CORPUS / case / "expected.txt").is_file()]
    assert not missing
    assert set(GENERATED) <= set(CASES)
