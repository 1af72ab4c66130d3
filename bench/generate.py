"""Writes a synthetic cardsmith project of N cards (realistic mix) for the benchmark."""

from __future__ import annotations

import argparse
import random
import shutil
import zlib
import struct
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CARDS_PER_FILE = 50
FILES_PER_FOLDER = 40
SYLLABLES = "ka lo mi ne ru ta vo sen dar gel mor pin quo tra zen bel cor fin hal lus".split()
WORDS = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "s", "ing", "al")})  # 1,600
WORDS[:30] = ("gradient loss layer network weight bias activation batch norm dropout kernel stride "
              "attention token embedding optimiser momentum learning rate schedule softmax logit "
              "variance mean sample feature map pooling residual encoder").split()
DECK_YAML = "name: Bench\nid: 1500000001\ndescription: Synthetic benchmark deck.\ncards: [bench/**/*.md]\n"
TABLE = "| model | params | top-1 |\n|---|---:|---:|\n| A | 11M | 69.8 |\n| B | 25M | 76.1 |\n"
CODE = "```python\nimport numpy as np\n\ndef f(z):\n    e = np.exp(z - z.max())\n    return e / e.sum()\n```"
INLINE_MATH = (r"$\sigma(x) = \frac{1}{1+e^{-x}}$", r"$W_2 W_1 x$", r"$\mathcal{O}(n^2 d)$",
               r"$a_{ij} * b_{ij}$")
DISPLAY_MATH = "$$\n\\frac{\\partial L}{\\partial w_{ij}} = \\sum_k \\delta_k\\, x_{ik}\n$$"
IMAGES = 5


def png(seed: int) -> bytes:
    """A tiny valid PNG, different for each seed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00" + bytes([seed % 256, (seed * 7) % 256, (seed * 13) % 256])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def sentence(rng: random.Random, words: int = 14) -> str:
    """A sentence of plain words, some bold or in code."""
    out = []
    for _ in range(words):
        word = rng.choice(WORDS)
        roll = rng.random()
        out.append(f"**{word}**" if roll < 0.05 else f"`{word}`" if roll < 0.08 else word)
    return " ".join(out).capitalize() + "."


def card(rng: random.Random, index: int) -> str:
    """One card in the card format, of a randomly chosen kind."""
    card_id = f"card-{index:06d}"
    math = rng.random() < 1 / 3
    if rng.random() < 0.10:
        text = f"In a sentence, the {{{{c1::{rng.choice(WORDS)}}}}} of a {rng.choice(WORDS)}"
        if math:
            text += f" is {{{{c2::{rng.choice(INLINE_MATH)}}}}}"
        return f"## {text}.\n<!-- id: {card_id}; type: cloze -->\n\n{sentence(rng)}\n"
    kind = "; type: basic-reversed" if rng.random() < 0.05 else ""
    tags = f"; tags: level::{rng.choice(['basic', 'advanced'])}" if rng.random() < 0.5 else ""
    question = f"## {sentence(rng, 8)[:-1]}?" + (f" {rng.choice(INLINE_MATH)}" if math and rng.random() < 0.3 else "")
    head = f"{question}\n<!-- id: {card_id}{tags}{kind} -->\n\n"
    if rng.random() < 0.10:
        head += CODE + "\n\n---\n\n"
    paragraphs = [sentence(rng, rng.randint(8, 30))]
    if rng.random() < 0.5:
        paragraphs += [sentence(rng, rng.randint(10, 40)) for _ in range(rng.randint(1, 3))]
    if math:
        paragraphs[0] += f" With {rng.choice(INLINE_MATH)} here."
        if rng.random() < 0.5:
            paragraphs.append(DISPLAY_MATH)
    if rng.random() < 0.05:
        paragraphs.append(TABLE)
    if rng.random() < 0.01:
        paragraphs.append(f"![figure](img/fig-{rng.randrange(IMAGES)}.png)")
    if rng.random() < 0.15:
        paragraphs.append("\n".join(f"- {sentence(rng, 6)}" for _ in range(3)))
    return head + "\n\n".join(paragraphs) + "\n"


def generate(root: Path, count: int, seed: int = 1) -> Path:
    """Write a project of `count` cards under `root` (replacing it); return `root`."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "decks").mkdir(parents=True)
    (root / "decks" / "bench.yaml").write_text(DECK_YAML, encoding="utf-8")
    rng = random.Random(seed)
    files = (count + CARDS_PER_FILE - 1) // CARDS_PER_FILE
    for number in range(files):
        folder = root / "cards" / "bench" / f"part-{number // FILES_PER_FOLDER:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / "img").exists():
            (folder / "img").mkdir()
            for image in range(IMAGES):
                (folder / "img" / f"fig-{image}.png").write_bytes(png(image))
        front = f"---\nsubdeck: Topic {number % 7}\ntags: [bench::t{number % 11}]\n---\n\n" if number % 3 == 0 else ""
        first = number * CARDS_PER_FILE
        body = "\n".join(card(rng, i) for i in range(first, min(first + CARDS_PER_FILE, count)))
        (folder / f"{number:05d}-topic.md").write_text(front + body, encoding="utf-8")
    return root


def main() -> None:
    """Command line: generate.py N OUT_DIR."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.count, args.seed)


if __name__ == "__main__":
    main()
