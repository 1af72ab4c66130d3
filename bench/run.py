"""Runs the benchmark: cardsmith builds against the genanki floor, written to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.generate import generate

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CARDSMITH = [PYTHON, "-c", "from cardsmith.cli import main; main()"]
CHECK_SNIPPET = ("import sys; from pathlib import Path; from cardsmith.pipeline import Project; "
                 "p = Project(Path(sys.argv[1])); [p.prepare(d) for d in p.decks]")
CHECK_TIMEOUT = 300.0  # `check` also looks for near-duplicate questions, which may grow faster than linearly
CHANGED_CARD = "part-000/00000-topic.md"
# RESULTS.md is prose around the figures: the run replaces what stands between these two lines.
START = "<!-- measured: from here to the end marker, written by `make bench` (bench/run.py) -->"
END = "<!-- end of measured -->"


@dataclass
class Figure:
    """Repeated runs of one command: wall seconds and peak RSS (KiB) of each."""

    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def time(self) -> float:
        done = [s for s in self.seconds if s == s]
        return statistics.median(done) if done else float("nan")

    @property
    def rss(self) -> int:
        return max(self.rss_kib) or 1


def run(command: list[str], env: dict | None = None, timeout: float | None = None,
        tolerate: bool = False, cpu: list[float] | None = None) -> tuple[float, int]:
    """Run a command to completion; return (wall seconds, peak RSS in KiB of its largest process), and
    append its CPU seconds (user + system) to `cpu` when given.

    /usr/bin/time reports the peak RSS: a child forked from this (larger) process would inherit
    this process's high-water mark, so measuring through a small C parent keeps the figure honest.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as usage:
        started = time.perf_counter()
        try:
            proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", usage.name, *command], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, timeout=timeout)
        except subprocess.TimeoutExpired:
            return float("inf"), 0
        elapsed = time.perf_counter() - started
        if proc.returncode and tolerate:
            print(f"  (failed, recorded as nan: {proc.stderr.decode().strip().splitlines()[-1:]})", flush=True)
            return float("nan"), 0
        if proc.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{proc.stderr.decode()}")
        figures = usage.read().split()
        if cpu is not None:
            cpu.append(float(figures[-3]) + float(figures[-2]))
        return elapsed, int(figures[-1])


def export_notes(apkg: Path, out_dir: Path) -> Path:
    """The notes, note types and media of a built package as JSON for the floor script."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(apkg) as archive, tempfile.TemporaryDirectory() as tmp:
        archive.extract("collection.anki2", tmp)
        names = json.loads(archive.read("media"))
        media = []
        for index, name in names.items():
            (out_dir / name).write_bytes(archive.read(index))
            media.append(str(out_dir / name))
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
        decks = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
        models = {}
        for key, m in json.loads(models_json).items():
            models[key] = {"id": m["id"], "name": m["name"], "css": m["css"], "type": m["type"],
                           "fields": [{"name": f["name"]} for f in m["flds"]],
                           "templates": [{"name": t["name"], "qfmt": t["qfmt"], "afmt": t["afmt"]} for t in m["tmpls"]]}
        notes = []
        rows = conn.execute("SELECT n.guid, n.mid, n.flds, n.tags, min(c.did) FROM notes n JOIN cards c ON c.nid = n.id "
                            "GROUP BY n.id ORDER BY n.id")
        for guid, mid, flds, tags, did in rows:
            notes.append({"guid": guid, "model": str(mid), "fields": flds.split("\x1f"), "tags": tags.split(),
                          "deck": decks[did], "deck_id": did})
        conn.close()
    path = out_dir / "notes.json"
    path.write_text(json.dumps({"models": models, "notes": notes, "media": media}), encoding="utf-8")
    return path


def has_check() -> bool:
    """Whether this cardsmith has a `check` command."""
    out = subprocess.run(CARDSMITH + ["--help"], capture_output=True, text=True).stdout
    return any(line.split()[:1] == ["check"] for line in out.splitlines())


def touch_card(root: Path, round_: int) -> None:
    """Change the answer of the first card (a different text each round)."""
    path = root / "cards" / "bench" / CHANGED_CARD
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("<!-- id:")) + 2
    lines[at] = lines[at] + f" Edit {round_}." if "Edit" not in lines[at] else lines[at].rsplit(" Edit", 1)[0] + f" Edit {round_}."
    path.write_text("\n".join(lines), encoding="utf-8")


def reset(root: Path, cache: Path) -> None:
    """Remove every build output, the lock and the cache: the next build is a first, cold one."""
    shutil.rmtree(root / "dist", ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    (root / "decks" / "bench.lock").unlink(missing_ok=True)


def bench_size(count: int, repeats: int, work: Path, check: bool) -> dict[str, Figure]:
    """Every figure for one deck size."""
    root = work / f"project-{count}"
    cache = work / f"cache-{count}"
    generate(root, count)
    env = {"CARDSMITH_CACHE_DIR": str(cache)}
    build = CARDSMITH + ["build", "--root", str(root)]
    figures = {name: Figure() for name in ("floor", "cold", "nochange", "onechange", "check", "prepare")}

    def record(name: str, result: tuple[float, int]) -> None:
        figures[name].seconds.append(result[0])
        figures[name].rss_kib.append(result[1])

    reset(root, cache)
    run(build, env)
    notes = export_notes(root / "dist" / "bench.apkg", work / f"floor-{count}")
    floor = [PYTHON, str(HERE / "floor.py"), str(notes), str(work / f"floor-{count}.apkg")]
    prepare_cmd = [PYTHON, "-c", CHECK_SNIPPET, str(root)]
    check_cmd = CARDSMITH + ["check", "--root", str(root)] if check else prepare_cmd
    for index in range(repeats):
        record("floor", run(floor))
        reset(root, cache)
        record("cold", run(build, env))
        record("nochange", run(build, env))
        touch_card(root, index)
        record("onechange", run(build, env))
        record("check", run(check_cmd, env, timeout=CHECK_TIMEOUT, tolerate=True))
        record("prepare", run(prepare_cmd, env))
        print(f"  N={count} round {index + 1}/{repeats}: " + ", ".join(
            f"{k} {v.seconds[-1]:.2f}s" for k, v in figures.items()), flush=True)
    return figures


def versions() -> str:
    """The versions that matter for the figures."""
    names = ("genanki", "Markdown", "pymdown-extensions", "Pygments", "isal", "cardsmith")
    return ", ".join(f"{n} {metadata.version(n)}" for n in names) + f", Python {platform.python_version()}"


def machine() -> str:
    """CPU model, cores and memory of this machine."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    return f"{cpu}, {os.cpu_count()} cores, {mem} RAM, {platform.system()} {platform.release()}"


def baseline_rss() -> int:
    """Peak RSS (KiB) of an interpreter that only imports cardsmith: the baseline for memory growth."""
    return run([PYTHON, "-c", "import cardsmith.cli, cardsmith.pipeline"])[1]


def report(results: dict[int, dict[str, Figure]], repeats: dict[int, int], check: bool, command: str) -> str:
    """RESULTS.md's measured part, as Markdown."""
    base = baseline_rss()
    lines = [f"- Machine: {machine()}", f"- Versions: {versions()}", f"- Command: `{command}`",
             "- Repetitions: " + ", ".join(f"N={n}: {r}" for n, r in repeats.items()) + " (wall time is the median;"
             " peak RSS is the largest of the runs, of the largest single process, via /usr/bin/time)",
             "- `check`: " + ("`cardsmith check` after the builds (reads the render cache; also looks for "
                              "near-duplicate questions; nan = it failed)" if check else "pending (no `cardsmith check` yet): measured as "
                               "`Project.prepare` for every deck (parse + render from the cache + validation, no write)"),
             f"- Interpreter baseline (Python importing cardsmith): {base / 1024:.0f} MB", "",
             "| N | what | wall (s) | x floor | peak RSS (MB) | x floor |", "|---:|---|---:|---:|---:|---:|"]
    labels = {"floor": "floor (genanki alone)", "cold": "cold build (empty cache)", "nochange": "rebuild, nothing changed",
              "onechange": "rebuild, one card changed", "check": "`cardsmith check`" if check else "check (pending)",
              "prepare": "parse + render via the cache, no write"}
    for count, figures in results.items():
        floor = figures["floor"]
        for name, label in labels.items():
            f = figures[name]
            lines.append(f"| {count:,} | {label} | {f.time:.2f} | {f.time / floor.time:.2f} | {f.rss / 1024:.0f} |"
                         f" {f.rss / floor.rss:.2f} |")
    if 10_000 in results and 100_000 in results:
        small, big = results[10_000], results[100_000]
        lines += ["", "Growth from 10,000 to 100,000 cards (target: at most 11x):", ""]
        for name in ("cold", "onechange", "nochange", "check"):
            t = big[name].time / small[name].time
            m = (big[name].rss - base) / max(1, small[name].rss - base)
            lines.append(f"- {labels[name]}: time x{t:.1f}, memory above baseline x{m:.1f}")
    return "\n".join(lines) + "\n"


def write_report(text: str, path: Path, start: str = START, end: str = END) -> None:
    """The figures into `path`: between its markers when it has them (the prose around stays), else the whole file."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in old and end in old.split(start, 1)[1]:
        head, rest = old.split(start, 1)
        text = f"{head}{start}\n\n{text}\n{end}{rest.split(end, 1)[1]}"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    """Command line: run.py [--sizes 1000 10000 100000] [--repeats 5] [--big-repeats 5]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big-repeats", type=int, default=5, help="repetitions at 100,000 cards and more")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder [default: a temp dir]")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md",
                        help="where the figures go: between the markers of RESULTS.md [default], or a file of their own")
    args = parser.parse_args()
    # Compiled bytecode for cardsmith, as pip leaves it for genanki (the floor's side): without it, a
    # machine with PYTHONDONTWRITEBYTECODE=1 (this sandbox) compiles cardsmith from source every run.
    compileall.compile_dir(str(HERE.parent / "cardsmith"), quiet=1)
    check = has_check()
    work = args.work or Path(tempfile.mkdtemp(prefix="cardsmith-bench-"))
    results, repeats = {}, {}
    for count in args.sizes:
        repeats[count] = args.big_repeats if count >= 100_000 else args.repeats
        print(f"N={count}: {repeats[count]} rounds", flush=True)
        results[count] = bench_size(count, repeats[count], work, check)
    command = "make bench" if sys.argv[1:] == [] else "python -m bench.run " + " ".join(sys.argv[1:])
    text = report(results, repeats, check, command)
    write_report(text, args.out)
    print(text)
    if not args.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
