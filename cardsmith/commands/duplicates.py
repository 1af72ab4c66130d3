"""Near-duplicate questions: normalised token lists, candidate pairs by prefix filtering, then difflib.

A question is normalised to lower-case word tokens without Markdown, HTML, cloze or math markup,
function words ("what is the … of a …", which every question shares) and plural `s`. Two
questions are near-duplicates when difflib's SequenceMatcher ratio over these tokens is at least
THRESHOLD and they ask about the same numbers (a 3×3 and a 5×5 kernel are different exercises).
Comparing all pairs is quadratic, so candidates come from an inverted index over pairs of each
question's rarest tokens (prefix filtering): a pair reaching the threshold always shares one.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations
from typing import Iterator, NamedTuple, Sequence

from .. import mathtex
from ..cardgen import CLOZE_OPEN_RE, reveal

THRESHOLD = 0.85
# Formulas in a question's HTML or Markdown: MathJax, Anki's LaTeX (and `$` math in Markdown, mathtex.scan).
MATH_OPEN_RE = re.compile(r"\\\(|\\\[|\[\$\$\]|\[\$\]|\[latex\]", re.I)
MATH_CLOSE = {"\\(": "\\)", "\\[": "\\]", "[$$]": "[/$$]", "[$]": "[/$]", "[latex]": "[/latex]"}
# Neither spans another opening `<` or `[`: a question of many unclosed ones stays linear to read.
TAG_RE = re.compile(r"<[^<>]*>")
LINK_RE = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
TOKEN_RE = re.compile(r"[^\W_]+")
STOPWORDS = frozenset("""
a an the this that these those it its there here is are was were be been being am do does did has have had
of in on at to for from by with as into onto about than then and or but so if
what which explain describe define definition briefly mean meaning term terms called
can could would should will may might must you your we our us i me my s
""".split())
NUMBER_WORDS = frozenset("zero one two three four five six seven eight nine ten hundred thousand".split())


class Question(NamedTuple):
    """A card's question (its first field as written), where the card is, and the cards it says it is not a
    near-duplicate of (`distinct:` in its id comment)."""

    card_id: str
    shown_path: str
    line: int
    text: str
    markdown: bool = True  # else HTML: `$` is no math
    distinct: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """Question `later` is nearly the same as question `earlier` (indices into the input)."""

    earlier: int
    later: int
    ratio: float


def tokens(text: str) -> list[str]:
    """Normalised tokens of a question (see the module docstring)."""
    if "{{c" in text:  # a deletion counts as its answer (its hint and markup are not the question)
        text = CLOZE_OPEN_RE.sub(" ", reveal(text, lambda deletion: f" {deletion.answer} "))
    text = LINK_RE.sub(r" \1 ", text)
    text = TAG_RE.sub(" ", text)
    words = TOKEN_RE.findall(text.lower())
    content = [_stem(w) for w in words if w not in STOPWORDS]
    return content or words


def _stem(word: str) -> str:
    """Crude stemming: plural to singular (`methods`, not `loss`) and -ize to -ise spelling."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word.replace("iz", "is")  # normalization == normalisation


def formulas(text: str, markdown: bool = True) -> list[str]:
    """A question's formulas without their spaces, sorted (two questions that differ inside one are not the same).

    Linear: a formula opened and never closed ends the search for formulas of its kind.
    """
    found = [f.tex for f in mathtex.scan(text)[0]] if markdown and "$" in text else []
    lowered = text.lower()
    position, exhausted = 0, set()
    for match in MATH_OPEN_RE.finditer(lowered):
        opener = match.group()
        if match.start() < position or opener in exhausted:
            continue
        end = lowered.find(MATH_CLOSE[opener], match.end())
        if end < 0:
            exhausted.add(opener)
            continue
        found.append(text[match.end():end])
        position = end + len(MATH_CLOSE[opener])
    return sorted("".join(tex.split()) for tex in found)


def near_duplicates(texts: Sequence[str], threshold: float = THRESHOLD,
                    markdown: Sequence[bool] | None = None) -> list[Match]:
    """Every pair of texts whose normalised token sequences are at least `threshold` similar, and whose numbers
    and formulas are the same (`markdown`: which texts are Markdown, by default all)."""
    docs = [tokens(t) for t in texts]
    maths = [formulas(t, markdown[i] if markdown is not None else True) for i, t in enumerate(texts)]
    # Multiset elements: the k-th occurrence of a token is its own element (token, k).
    elements = [_elements(doc) for doc in docs]
    numbers = [sorted(e for e in elems if e[0].isdigit() or e[0] in NUMBER_WORDS) for elems in elements]
    # Each element as its rank in one global order, rarest first: ints hash and compare faster than
    # (token, k) tuples, and a pair of ranks is one int key.
    frequency = Counter(e for elems in elements for e in elems)
    rank = {e: r for r, e in enumerate(sorted(frequency, key=lambda e: (frequency[e], e)))}
    ordered = [sorted([rank[e] for e in elems]) for elems in elements]
    del elements, frequency
    sets = [frozenset(ranks) for ranks in ordered]
    width = len(rank)
    # A ratio >= t needs a multiset overlap o >= t * (la + lb) / 2. Processing texts from short to
    # long, the longer side (probing) needs o >= la * t / (2 - t), the shorter (indexed) o >= lb * t.
    share = threshold / (2 - threshold)
    index: dict[int, list[int]] = defaultdict(list)
    matches = []
    for i in sorted(range(len(docs)), key=lambda k: (len(docs[k]), k)):
        ranks, length = ordered[i], len(ordered[i])
        if not length:
            continue
        shortest = length * share - 1e-9
        candidates = {j for key in _keys(ranks, share, width) for j in index.get(key, ()) if len(docs[j]) >= shortest}
        for j in sorted(candidates):
            if numbers[i] == numbers[j] and maths[i] == maths[j] \
                    and 2 * len(sets[i] & sets[j]) >= threshold * (length + len(docs[j])) - 1e-9:
                ratio = SequenceMatcher(None, docs[j], docs[i], autojunk=False).ratio()
                if ratio >= threshold:
                    matches.append(Match(min(i, j), max(i, j), ratio))
        for key in _keys(ranks, threshold, width):
            index[key].append(i)
    return sorted(matches, key=lambda m: (m.later, m.earlier))


def _keys(ranks: list[int], share: float, width: int) -> Iterator[int]:
    """Index keys of a text whose overlap with a match is at least `share` of its length.

    Prefix filtering on pairs: with elements in one global order (rarest first), two texts sharing
    o >= 2 elements have their two first shared elements within each one's first `len - o + 2`
    elements, so they share a pair of those. Rare pairs keep candidate lists short even where
    single words are common. Texts of one element share one only with another of one element
    (any longer match needs two), so those are keyed by their element alone (a negative key; a
    pair of ranks a < b is the key a * width + b).
    """
    if len(ranks) == 1:
        yield -1 - ranks[0]
        return
    overlap = max(2, math.ceil(len(ranks) * share - 1e-9))
    for a, b in combinations(ranks[:len(ranks) - overlap + 2], 2):
        yield a * width + b


def _elements(doc: list[str]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    out = []
    for token in doc:
        count = seen.get(token, 0)
        out.append((token, count))
        seen[token] = count + 1
    return out


def repeated_questions(questions: list[Question]) -> list[tuple[Question, Question, float, int]]:
    """Each question that repeats an earlier one (in file order), with the closest earlier one, their similarity
    and how many more earlier ones it repeats; a pair either card calls `distinct` is not one."""
    ordered = sorted(questions, key=lambda q: (q.shown_path, q.line))
    best: dict[int, list[tuple[float, int]]] = {}
    for match in near_duplicates([q.text for q in ordered], markdown=[q.markdown for q in ordered]):
        earlier, later = ordered[match.earlier], ordered[match.later]
        if later.card_id not in earlier.distinct and earlier.card_id not in later.distinct:
            best.setdefault(match.later, []).append((-match.ratio, match.earlier))
    found = []
    for index, matches in sorted(best.items()):
        ratio, earlier = min(matches)
        found.append((ordered[index], ordered[earlier], -ratio, len(matches) - 1))
    return found
