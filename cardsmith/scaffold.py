"""`cardsmith init DIR`: a ready deck project (cards, deck file with fresh ids, templates, Makefile, CI)."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

from .errors import BuildError, Problem

# The default templates ship inside the package (a copy of the repo's templates/, kept equal by a test),
# so `cardsmith init` works from any install, editable or not.
TEMPLATES = Path(__file__).resolve().parent / "data" / "templates"

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

WORKFLOW = """name: build
on: [push, pull_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      # The cardsmith version this deck was made with; pin a git URL instead if you use one.
      - run: pip install "cardsmith==__VERSION__"
      - run: make check
      - run: make build BUILD_FLAGS=--frozen
      - uses: actions/upload-artifact@v4
        with:
          name: decks
          path: dist/*.apkg
"""


def create_project(directory: Path, name: str | None = None) -> list[Path]:
    """Write a new project into `directory` (empty or missing); return the files written."""
    from . import __version__

    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BuildError([Problem(str(directory), 0, "exists and is not empty; init writes only into a new folder")])
    slug = re.sub(r"[^a-z0-9]+", "-", (name or directory.resolve().name).lower()).strip("-") or "deck"
    deck_name = name or directory.resolve().name.replace("-", " ").replace("_", " ").strip().title() or "My Deck"
    rng = random.SystemRandom()
    files = {
        f"cards/{slug}/01-example.md": EXAMPLE,
        f"decks/{slug}.yaml": (f"# Anki knows the deck by its name and id: both are fixed once released.\n"
                               f"name: {_yaml_string(deck_name)}\nid: {rng.randrange(1 << 30, 1 << 31)}\n"
                               f"description: Built with cardsmith from Markdown sources.\ncards:\n  - {slug}/*.md\n"
                               f"subdecks: per-file\n"),
        "Makefile": MAKEFILE,
        ".github/workflows/build.yml": WORKFLOW.replace("__VERSION__", __version__),
        ".gitignore": "dist/\n.test-dist/\n.cache/\n",
    }
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    shutil.copytree(TEMPLATES, directory / "templates")
    for spec in sorted((directory / "templates").glob("*/notetype.yaml")):
        spec.write_text(fresh_ids(spec.read_text(encoding="utf-8"), deck_name, rng), encoding="utf-8")
    written += sorted(p for p in (directory / "templates").rglob("*") if p.is_file())
    return written


def fresh_ids(text: str, deck_name: str, rng: random.Random) -> str:
    """A note type definition with new fixed ids and the deck's name, so decks never share note types."""
    text = re.sub(r"^id: \d+", lambda m: f"id: {rng.randrange(1 << 30, 1 << 31)}", text, flags=re.M)
    text = re.sub(r"\bid: \d+(?=[,}])", lambda m: f"id: {rng.randrange(1 << 50, 1 << 52)}", text)
    return re.sub(r"^name: cardsmith (.*)$", lambda m: "name: " + _yaml_string(f"{deck_name} {m.group(1)}"),
                  text, flags=re.M)


def _yaml_string(value: str) -> str:
    """A YAML scalar for any text (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)
