"""Try `cardsmith import` on real .apkg files as docs/import.md's table says: a migration that changes nothing.

For each package: `cardsmith init` a scratch project, `import --verify`, `check --strict`, `build`; then import the
original package into a fresh Anki collection (with scheduling) and the build after it: 0 new, 0 updated,
0 conflicting, and notes, cards, reviews, note types and media files unchanged. Needs the `anki` package
(`pip install -e '.[test]'`). Usage: python scripts/import_roundtrip.py DECK.apkg...  (exit 1 if any deck fails)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cardsmith.errors import counted

CARDSMITH = Path(sys.executable).with_name("cardsmith")


def run(*args: str, cwd: Path) -> tuple[int, str, float]:
    """Run cardsmith; return its exit status, output and seconds."""
    start = time.monotonic()
    done = subprocess.run([str(CARDSMITH), *args], cwd=cwd, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def state(col) -> dict:
    """Everything a learner has: notes, cards with their scheduling, reviews, note types, media files."""
    return {
        "notes": sorted(col.db.all("SELECT guid, mid, mod, tags, flds FROM notes")),
        "cards": sorted(col.db.all("SELECT id, nid, did, ord, type, queue, due, ivl, factor, reps FROM cards")),
        "revlog": sorted(col.db.all("SELECT * FROM revlog")),
        "notetypes": sorted((m["id"], m["name"], m["css"], m["mod"], str(m["flds"]), str(m["tmpls"]))
                            for m in col.models.all()),
        "media": sorted((p.name, p.read_bytes()) for p in Path(col.media.dir()).iterdir()),
    }


def import_package(col, path: Path):
    """Import as Anki desktop does by default ("update notes: if newer"), with scheduling."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    options = ImportAnkiPackageOptions(with_scheduling=True)
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options)).log


def try_deck(package: Path, scratch: Path) -> tuple[bool, str]:
    """One deck's round trip; return whether it changed nothing, and one line saying what happened."""
    from anki.collection import Collection

    run("init", "proj", cwd=scratch)
    root = scratch / "proj"
    (root / "decks/proj.yaml").unlink()
    shutil.rmtree(root / "cards/proj")
    status, output, seconds = run("import", "--out", "cards/deck", "--verify", str(package.resolve()), cwd=root)
    verified = re.search(r"holds the package's (\d+) notes? exactly", output)
    if status or not verified:
        return False, f"import --verify failed ({status}):\n{output}"
    timing = f"import --verify {seconds:.1f} s"
    for command in (("check", "--strict"), ("build",)):
        status, output, seconds = run(*command, cwd=root)
        noise = [line for line in output.splitlines() if "lacked it too" not in line]  # missing_media: a note
        if status or (command[0] == "check" and noise):
            return False, f"{' '.join(command)} failed ({status}):\n{output}"
        timing += f", {command[0]} {seconds:.1f} s"
    (scratch / "anki").mkdir()
    col = Collection(str(scratch / "anki/collection.anki2"))
    try:
        import_package(col, package)
        before = state(col)
        logs = [import_package(col, built) for built in sorted((root / "dist").glob("*.apkg"))]
        after = state(col)
    finally:
        col.close()
    counts = [sum(len(getattr(log, kind)) for log in logs) for kind in ("new", "updated", "conflicting")]
    changed = [key for key in before if before[key] != after[key]]
    result = (f"{counted(int(verified[1]), 'note')} exact; {counts[0]} new, {counts[1]} updated, {counts[2]} conflicting; "
              f"{len(after['media'])} media ({len(before['media'])} before), {len(after['revlog'])} reviews; "
              f"changed: {', '.join(changed) or 'nothing'} ({timing})")
    return counts == [0, 0, 0] and not changed, result


def main(packages: list[str]) -> int:
    failed = 0
    for package in map(Path, packages):
        with tempfile.TemporaryDirectory(prefix="roundtrip-") as scratch:
            ok, line = try_deck(package, Path(scratch))
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {package.name}: {line}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
