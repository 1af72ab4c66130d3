"""`cardsmith init DIR`: a ready deck project (cards, deck file with fresh ids, templates, Makefile, CI)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import random
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import config
from ..errors import LINE_BREAK_RE, BuildError, Problem
from ..schema import Invalid
from ..parse import slug
from .mergedriver import ATTRIBUTES

# The default templates ship inside the package (a copy of the repo's templates/, kept equal by a test),
# so `cardsmith init` works from any install, editable or not.
TEMPLATES = Path(__file__).resolve().parent.parent / "data" / "templates"

EXAMPLE = r"""---
tags: [example]
---

## What does a non-linear activation function add to a network?
<!-- id: why-nonlinear-activation -->

Without one, any stack of linear layers collapses into a single linear map $W_2 W_1 x$.

## The sigmoid function is $\sigma(x) =$ {{c1::$\frac{1}{1+e^{-x}}$}}.
<!-- id: sigmoid-formula; type: cloze -->

Its derivative is $\sigma(x)\,(1-\sigma(x))$.

## ReLU
<!-- id: relu; type: basic-reversed -->

$\max(0, x)$
"""

MAKEFILE = """# make build: build dist/*.apkg; make check: check the cards; make test: check + a build that must not
# change decks/*.lock (commit the lock after `make build`). CARDSMITH is the cardsmith command to use.
CARDSMITH ?= cardsmith
BUILD_FLAGS ?=

.PHONY: build check test clean

build:
\t$(CARDSMITH) build $(BUILD_FLAGS)

check:
\t$(CARDSMITH) check --strict

test: check
\t$(CARDSMITH) build --frozen --out .test-dist
\trm -rf .test-dist

clean:
\trm -rf dist .test-dist
"""

INSTALL = """\
          if [ -z "$CARDSMITH_SPEC" ]; then
            echo "::error file=.github/workflows/build.yml::CARDSMITH_SPEC is empty: set it in .github/workflows/build.yml to where CI installs cardsmith from (a pip requirement such as a git URL; cardsmith init --cardsmith SPEC writes it)"
            exit 1
          fi
          python -m pip install "$CARDSMITH_SPEC"\
"""

WORKFLOW = """name: build
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      # Where CI installs cardsmith from: a pip requirement it can reach, e.g.
      # "cardsmith @ git+https://github.com/<owner>/cardsmith@<tag or commit>".
      CARDSMITH_SPEC: __SPEC__
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install cardsmith
        run: |
__INSTALL__
      # The render cache, so that CI builds start warm (its entries are keyed by all they depend on).
      - uses: actions/cache@v4
        with:
          path: .cache/cardsmith
          key: cardsmith-${{ runner.os }}-${{ hashFiles('cards/**', 'decks/**', 'templates/**') }}
          restore-keys: cardsmith-${{ runner.os }}-
      - run: make check
      - run: make build BUILD_FLAGS=--frozen
      - uses: actions/upload-artifact@v4
        with:
          name: decks
          path: dist/*.apkg
  # For a pull request: the cards it changes, before and after, as a page to download (the run's Artifacts).
  cards-diff:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    env:
      CARDSMITH_SPEC: __SPEC__
      BASE: ${{ github.event.pull_request.base.sha }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # the base commit too
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install cardsmith
        run: |
__INSTALL__
      - run: cardsmith diff "$BASE" --out dist/diff
      - uses: actions/upload-artifact@v4
        with:
          name: cards-diff
          path: dist/diff/
""".replace("__INSTALL__", INSTALL)


# Card files and locks merge card by card once a clone runs `cardsmith merge-driver --install` (docs/team.md).
GITATTRIBUTES = "".join(line + "\n" for line in ATTRIBUTES)


@dataclass(frozen=True)
class InitResult:
    """What `init` wrote, and where its workflow installs cardsmith from."""

    directory: Path
    written: list[Path]
    spec: str | None  # None: the workflow stops until CARDSMITH_SPEC is set
    origin: str  # where this cardsmith was installed from, for the note when spec is None

    def lines(self) -> list[str]:
        """The files written, then the next steps, as commands that work as printed."""
        command = command_path()
        make = f"CARDSMITH={shlex.quote(command)} make build" if command else "make build"
        lines = [f"created {path}" for path in self.written]
        lines.append(f"Next: cd {shlex.quote(str(self.directory))} && {make}")
        if command:
            lines.append("  (cardsmith is not on your PATH: CARDSMITH tells make which one to run; "
                         "`make check` and `make test` need it too)")
        if self.spec is None:
            lines.append(f"Note: this cardsmith was installed from {self.origin}, which CI cannot reach: the "
                         "workflow stops until CARDSMITH_SPEC in .github/workflows/build.yml says where to install "
                         "cardsmith from (init writes it when given --cardsmith SPEC, e.g. "
                         "'cardsmith @ git+https://github.com/<owner>/cardsmith@<tag>')")
        return lines


def create_project(directory: Path, name: str | None = None, spec: str | None = None) -> InitResult:
    """Write a new project into `directory` (empty or missing).

    `spec`: the pip requirement CI installs cardsmith from (default: where this one came from, if CI can reach it).
    """
    origin = "--cardsmith"
    if spec is not None:
        _check_spec(spec)
    else:
        spec, origin = installed_spec()
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BuildError([Problem(str(directory), 0, "exists and is not empty; init writes only into a new folder")])
    deck_slug = slug(name or directory.resolve().name) or "deck"
    deck_name = name or directory.resolve().name.replace("-", " ").replace("_", " ").strip().title() or "My Deck"
    try:
        config.deck_name(deck_name)  # the rule of deck files: a name the project's own build would refuse is not written
    except Invalid as error:
        if name is not None:
            raise BuildError([Problem("--name", 0, f"the deck name {deck_name!r} {error.reasons[0]}")]) from None
        raise BuildError([Problem(str(directory), 0, f"the deck name {deck_name!r} made of the folder's name "
                                  f"{error.reasons[0]}: give one with --name")]) from None
    rng = random.SystemRandom()
    files = {
        f"cards/{deck_slug}/01-example.md": EXAMPLE,
        ".gitattributes": GITATTRIBUTES,
        f"decks/{deck_slug}.yaml": (f"# Anki knows the deck by its name and id: both are fixed once released.\n"
                                    f"name: {_yaml_string(deck_name)}\nid: {rng.randrange(1 << 30, 1 << 31)}\n"
                                    f"description: Built with cardsmith from Markdown sources.\ncards:\n"
                                    f"  - {deck_slug}/*.md\nsubdecks: per-file\n"),
        "Makefile": MAKEFILE,
        ".github/workflows/build.yml": WORKFLOW.replace("__SPEC__", _yaml_string(spec or "")),
        ".gitignore": "dist/\n.test-dist/\n.cache/\n.cardsmith/\n",  # .cardsmith/: sync records, one learner's
    }
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    shutil.copytree(TEMPLATES, directory / "templates")
    for notetype in sorted((directory / "templates").glob("*/notetype.yaml")):
        notetype.write_text(fresh_ids(notetype.read_text(encoding="utf-8"), deck_name, rng), encoding="utf-8")
    written += sorted(p for p in (directory / "templates").rglob("*") if p.is_file())
    return InitResult(directory, written, spec, origin)


def fresh_ids(text: str, deck_name: str, rng: random.Random) -> str:
    """A note type definition with new fixed ids and the deck's name, so decks never share note types."""
    text = re.sub(r"^id: \d+", lambda m: f"id: {rng.randrange(1 << 30, 1 << 31)}", text, flags=re.M)
    text = re.sub(r"\bid: \d+(?=[,}])", lambda m: f"id: {rng.randrange(1 << 50, 1 << 52)}", text)
    return re.sub(r"^name: cardsmith (.*)$", lambda m: "name: " + _yaml_string(f"{deck_name} {m.group(1)}"),
                  text, flags=re.M)


def _yaml_string(value: str) -> str:
    """A YAML scalar for any text (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _check_spec(spec: str) -> None:
    """Refuse a --cardsmith SPEC the workflow cannot use."""
    if not spec.strip():
        message = "--cardsmith SPEC is empty: give a pip requirement, e.g. 'cardsmith @ git+https://…@<tag>'"
    elif LINE_BREAK_RE.search(spec):
        message = "--cardsmith SPEC must be one line (a pip requirement)"
    elif spec.strip().startswith(("file:", "/", "~")) or "@ file:" in spec or "+file:" in spec:
        message = f"--cardsmith {spec}: CI cannot reach a local path; give a URL it can reach (e.g. a git URL)"
    else:
        return
    raise BuildError([Problem("--cardsmith", 0, message)])


def install_spec(direct_url: object) -> str | None:
    """The pip requirement that installs cardsmith again from a PEP 610 record (pip's direct_url.json).

    None for what CI cannot reach (a local folder or file:// URL, an editable install) or cannot pin.
    """
    if not isinstance(direct_url, dict) or not isinstance(direct_url.get("url"), str):
        return None
    url = direct_url["url"]
    if url.startswith("file:") or "://" not in url:
        return None
    subdirectory = direct_url.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) and subdirectory else ""
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        if not isinstance(vcs.get("vcs"), str) or not isinstance(vcs.get("commit_id"), str):
            return None
        return f"cardsmith @ {vcs['vcs']}+{url}@{vcs['commit_id']}{fragment}"  # the very commit installed
    archive = direct_url.get("archive_info")
    if isinstance(archive, dict):
        digest = archive.get("hash")
        return f"cardsmith @ {url}" + (f"#{digest}" if isinstance(digest, str) and "=" in digest else fragment)
    return None


def installed_spec() -> tuple[str | None, str]:
    """(pip requirement for CI, where this cardsmith was installed from, for messages)."""
    import cardsmith

    unknown = "an unknown place (a package index, or a source folder without an install)"
    try:
        dist = importlib.metadata.distribution("cardsmith")
        data = json.loads(dist.read_text("direct_url.json") or "null")
    except (importlib.metadata.PackageNotFoundError, OSError, ValueError):
        return None, unknown
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None, unknown
    installed = Path(str(dist.locate_file("cardsmith/__init__.py")))  # not another install's record
    ours = installed.is_file() and installed.samefile(cardsmith.__file__)
    return (install_spec(data) if ours else None), data["url"]


def command_path() -> str | None:
    """How a shell runs this very cardsmith, or None when `cardsmith` on PATH is it."""
    script = Path(os.path.abspath(sys.argv[0])) if sys.argv and Path(sys.argv[0]).name == "cardsmith" else None
    if script is None or not script.is_file():
        return f"{sys.executable} -m cardsmith"
    on_path = shutil.which("cardsmith")
    return None if on_path and Path(on_path).samefile(script) else str(script)
