"""The sync benchmark (issue 15): `cardsmith sync --collection` against Anki's own importer.

Per deck size, each round in fresh collections: Anki's importer on the deck's .apkg (the
reference: `import_anki_package`, the call behind File > Import), a first sync of the deck into an
empty collection, a sync with nothing changed, and a sync after one card's answer changed. Each
command runs as its own process (startup and imports counted on both sides); the deck is built
once first, so the sync reads its cards from the render cache as any sync after a build does.
Figures go into bench/RESULTS.md between their own markers.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.generate import generate
from bench.run import CARDSMITH, HERE, PYTHON, Figure, baseline_rss, machine, run, touch_card, write_report

START = "<!-- sync measured: from here to the end marker, written by `make bench` (bench/sync.py) -->"
END = "<!-- end of sync measured -->"
NEW_COLLECTION = "import sys; from anki.collection import Collection; Collection(sys.argv[1]).close()"
IMPORTER = ("import sys; from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest;"
            " col = Collection(sys.argv[1]); col.import_anki_package(ImportAnkiPackageRequest(package_path=sys.argv[2],"
            " options=ImportAnkiPackageOptions(with_scheduling=False))); col.close()")
LABELS = {"importer": "Anki's importer, the deck's .apkg into an empty collection",
          "first": "first sync into an empty collection", "nochange": "sync, nothing changed",
          "onechange": "sync, one card changed"}


def empty_collection(folder: Path) -> Path:
    """A new, empty collection file (as Anki makes for a new profile)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    run([PYTHON, "-c", NEW_COLLECTION, str(folder / "collection.anki2")])
    return folder / "collection.anki2"


def bench_size(count: int, repeats: int, work: Path) -> tuple[dict[str, Figure], dict[str, float]]:
    """Every sync figure for one deck size, and the median CPU seconds of each."""
    root = work / f"project-{count}"
    generate(root, count)
    env = {"CARDSMITH_CACHE_DIR": str(work / f"cache-{count}")}
    run(CARDSMITH + ["build", "--root", str(root)], env)
    apkg = root / "dist" / "bench.apkg"
    figures = {name: Figure() for name in LABELS}
    cpu: dict[str, list[float]] = {name: [] for name in LABELS}

    def record(name: str, command: list[str], env: dict | None = None) -> None:
        wall, rss = run(command, env, cpu=cpu[name])
        figures[name].seconds.append(wall)
        figures[name].rss_kib.append(rss)

    for index in range(repeats):
        reference = empty_collection(work / "importer")
        record("importer", [PYTHON, "-c", IMPORTER, str(reference), str(apkg)])
        target = empty_collection(work / "synced")
        shutil.rmtree(root / ".cardsmith", ignore_errors=True)  # no record: a first sync
        sync = CARDSMITH + ["sync", "--root", str(root), "--collection", str(target)]
        record("first", sync, env)
        record("nochange", sync, env)
        touch_card(root, index)
        record("onechange", sync, env)
        print(f"  N={count} round {index + 1}/{repeats}: " + ", ".join(
            f"{k} {v.seconds[-1]:.2f}s" for k, v in figures.items()), flush=True)
    return figures, {name: statistics.median(seconds) for name, seconds in cpu.items()}


def report(results: dict[int, tuple[dict[str, Figure], dict[str, float]]], repeats: int, command: str) -> str:
    """The measured part of the sync section, as Markdown."""
    from importlib import metadata

    base = baseline_rss()
    lines = [f"- Machine: {machine()}", f"- Versions: anki {metadata.version('anki')}, cardsmith "
             f"{metadata.version('cardsmith')}", f"- Command: `{command}`",
             f"- Repetitions: {repeats} per size (wall and CPU time (user + system) are medians; peak RSS the "
             "largest, via /usr/bin/time)",
             f"- Interpreter baseline (Python importing cardsmith): {base / 1024:.0f} MB", "",
             "| N | what | wall (s) | x importer | CPU (s) | peak RSS (MB) |", "|---:|---|---:|---:|---:|---:|"]
    for count, (figures, cpu) in results.items():
        reference = figures["importer"].time
        for name, label in LABELS.items():
            f = figures[name]
            lines.append(f"| {count:,} | {label} | {f.time:.2f} | {f.time / reference:.2f} | {cpu[name]:.2f} | "
                         f"{f.rss / 1024:.0f} |")
    sizes = sorted(results)
    if len(sizes) > 1:  # the two largest sizes: the fixed costs (imports, opening Anki) weigh least there
        small, big = results[sizes[-2]][0], results[sizes[-1]][0]
        factor = sizes[-1] / sizes[-2]
        lines += ["", f"Growth from {sizes[-2]:,} to {sizes[-1]:,} cards ({factor:.0f}x the cards):", ""]
        for name in ("first", "onechange"):
            t = big[name].time / small[name].time
            m = (big[name].rss - base) / max(1, small[name].rss - base)
            lines.append(f"- {LABELS[name]}: time x{t:.1f}, memory above baseline x{m:.1f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command line: sync.py [--sizes 1000 10000 100000] [--repeats 5] [--work DIR] [--out FILE]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None, help="scratch folder [default: a temp dir]")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="where the figures go: between the sync markers of RESULTS.md [default]")
    args = parser.parse_args()
    compileall.compile_dir(str(HERE.parent / "cardsmith"), quiet=1)  # as bench/run.py does, and pip would
    work = args.work or Path(tempfile.mkdtemp(prefix="cardsmith-bench-sync-"))
    results = {}
    for count in args.sizes:
        print(f"sync, N={count}: {args.repeats} rounds", flush=True)
        results[count] = bench_size(count, args.repeats, work)
    command = " ".join(["python -m bench.sync", *sys.argv[1:]])  # what `make bench` runs for this part
    text = report(results, args.repeats, command)
    if args.out.exists() and START not in args.out.read_text(encoding="utf-8"):  # never replace the file's prose
        with args.out.open("a", encoding="utf-8") as stream:
            stream.write(f"\n## Sync\n\n{START}\n{END}\n")
    write_report(text, args.out, START, END)
    print(text)
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
