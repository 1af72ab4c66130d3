"""The shipped Deep Learning Interview Questions deck: it builds, imports into real Anki, its code runs,
every seed question is covered, its figures exist, and docs/deck.md's category table matches the build."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tokenize
from collections import Counter, defaultdict

import pytest
import yaml
from click.testing import CliRunner

from cardsmith.cli import main
from conftest import REPO, assert_integrity, import_apkg, visible_html

DECK = "Deep Learning Interview Questions"
CARD_DIR = REPO / "cards" / "deep-learning"
COVERAGE_DIR = REPO / "tests" / "seed_coverage"
CODE_CHECKS = REPO / "tests" / "code_checks"       # <card-id>.py (or <card-id>--2.py): asserts on a card's code
SEEDS = REPO.parent / "shared" / "seeds"          # the source articles live next to the repo
LEVELS = {"level::basic", "level::advanced", "level::scenario"}


# --- the card files, parsed independently of cardsmith -------------------------------------------

def parse_cards() -> list[dict]:
    """Every card of cards/deep-learning/*.md: id, file, line, question, body, type, tags."""
    cards = []
    for path in sorted(CARD_DIR.glob("*.md")):
        lines = path.read_text(encoding="utf-8").split("\n")
        starts = [n for n, line in enumerate(lines[:-1])
                  if line.startswith("## ") and lines[n + 1].startswith("<!-- id:")]
        for i, n in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(lines)
            meta = lines[n + 1]
            type_ = re.search(r"type:\s*([a-z-]+)", meta)
            cards.append({
                "id": re.search(r"id:\s*([a-z0-9-]+)", meta).group(1),
                "file": path.name, "line": n + 1, "question": lines[n][3:],
                "body": "\n".join(lines[n + 2:end]),
                "type": type_.group(1) if type_ else "basic",
            })
    return cards


CARDS = parse_cards()
CARD_IDS = {card["id"] for card in CARDS}


def python_blocks() -> list[tuple[str, str]]:
    """(card id, code) for every ```python block; a card's 2nd block is 'id#2', and so on."""
    blocks = []
    for card in CARDS:
        found = re.findall(r"^```python\n(.*?)^```", card["body"], flags=re.S | re.M)
        for i, code in enumerate(found, 1):
            blocks.append((card["id"] if i == 1 else f"{card['id']}#{i}", code))
    return blocks


PYTHON_BLOCKS = python_blocks()


def test_deck_has_cards_and_unique_ids():
    assert len(CARDS) > 300
    assert len(CARD_IDS) == len(CARDS)


def normalised(question: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", question.lower()).strip()


def test_no_two_cards_ask_the_same_question():
    counts = Counter(normalised(card["question"]) for card in CARDS)
    assert [q for q, n in counts.items() if n > 1] == []


def cloze_deletions(text: str) -> list[str]:
    """The contents of the {{cN::...}} deletions of a cloze text; `}}` inside $...$ math does not end one."""
    deletions = []
    for match in re.finditer(r"\{\{c\d+::", text):
        i, in_math = match.end(), False
        while i < len(text):
            if text[i] == "$":
                in_math = not in_math
            elif not in_math and text.startswith("}}", i):
                break
            i += 1
        deletions.append(text[match.end():i])
    return deletions


def test_cloze_deletions_are_well_formed():
    problems = []
    clozes = [card for card in CARDS if card["type"] == "cloze"]
    assert len(clozes) > 30
    for card in clozes:
        text = card["question"] + "\n" + card["body"].split("\n---\n")[0]
        deletions = cloze_deletions(text)
        if not deletions:
            problems.append(f"{card['id']}: no deletion")
        for content in deletions:
            outside_math = re.sub(r"\$[^$]*\$", "", content)
            if "::" in outside_math or "}}" in outside_math or "{{" in outside_math:
                problems.append(f"{card['id']}: {content!r}")
    assert problems == []


# --- (a) the real deck, built with the CLI and imported into a fresh Anki collection -------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the deck from a temp copy of cards/, decks/ and templates/: the working tree is never touched."""
    root = tmp_path_factory.mktemp("deck") / "proj"
    for name in ("cards", "decks", "templates"):
        shutil.copytree(REPO / name, root / name)
    out, report = root / "out", root / "report.json"
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out), "--report", str(report)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(report.read_text())
    lock = json.loads((root / "decks" / "deep-learning.lock").read_text())
    return {"apkg": out / "deep-learning.apkg", "report": entry, "lock": lock, "output": result.output}


@pytest.fixture(scope="module")
def imported(built, tmp_path_factory):
    from anki.collection import Collection

    col = Collection(str(tmp_path_factory.mktemp("anki") / "collection.anki2"))
    log = import_apkg(col, built["apkg"])
    yield col, log
    col.close()


def test_the_docs_show_the_build_line_of_the_shipped_deck(built):
    """README.md and docs/commands.md show `make build`'s line for this deck with its real counts."""
    real = "{cards} cards, {notes} notes, {media} media".format(**built["report"])
    for page in (REPO / "README.md", REPO / "docs" / "commands.md"):
        text = page.read_text(encoding="utf-8")
        shown = re.findall(rf"^{re.escape(DECK)}: (\d+ cards, \d+ notes, \d+ media) ->", text, flags=re.M)
        assert shown and set(shown) == {real}, f"{page.name} shows {shown}; the build prints {real}"


def test_build_counts_every_card(built):
    assert built["report"]["deck"] == DECK
    assert built["report"]["notes"] == len(CARDS)
    assert built["report"]["media"] == len(list((CARD_DIR / "img").glob("*.png")))


def test_the_committed_lock_is_this_builds(built):
    """Every card's HTML, GUID, note type and deck are what was released: the build changes nothing in the lock
    (any change in how a field renders would show here, and give learners an update)."""
    assert built["lock"] == json.loads((REPO / "decks" / "deep-learning.lock").read_text())
    report = built["report"]
    assert not (report["new"] or report["changed"] or report["deleted"] or report["moved"])
    assert report["unchanged"] == len(CARDS)


def test_every_note_imports(built, imported):
    col, log = imported
    tombstones = len(built["lock"].get("deleted", {}))
    assert len(log.new) == len(CARDS) + tombstones
    assert not log.conflicting and not log.duplicate
    assert len(col.find_notes("")) == len(CARDS) + tombstones
    assert len(col.find_notes("-tag:cardsmith::deleted")) == len(CARDS)


# Anki's own rendering-problem messages (conftest's generic check also rejects the word "error", which
# deep-learning cards use all the time: "training error", "the error of layer l").
ANKI_PROBLEMS = ("template has a problem", "no field called", "is blank", "no cloze", "more information", "{{",
                 "}}")


def test_every_card_renders_without_template_errors(imported):
    col, _ = imported
    card_ids = col.find_cards("")
    assert len(card_ids) >= len(CARDS)
    problems = []
    for cid in card_ids:
        card = col.get_card(cid)
        for side in (visible_html(card.question()), visible_html(card.answer())):
            problems += [(card.note().fields[0][:60], sign) for sign in ANKI_PROBLEMS if sign in side.lower()]
    assert problems == []


def test_integrity_check_is_clean(imported):
    col, _ = imported
    assert_integrity(col)


def test_every_card_is_in_a_subdeck_of_the_deck(imported):
    col, _ = imported
    names = {col.decks.name(col.get_card(cid).did) for cid in col.find_cards("")}
    assert names and all(name.startswith(DECK + "::") for name in names), names


def test_every_note_has_one_level_and_a_category(imported):
    col, _ = imported
    problems = []
    for nid in col.find_notes("-tag:cardsmith::deleted"):
        note = col.get_note(nid)
        levels = [t for t in note.tags if t.lower() in LEVELS]
        categories = [t for t in note.tags if t.lower().startswith("category::")]
        if len(levels) != 1 or not categories:
            problems.append((note.fields[0][:80], note.tags))
    assert problems == []


# --- (b) every ```python block runs in a fresh interpreter ---------------------------------------

def test_python_block_count():
    assert len(PYTHON_BLOCKS) >= 30


def check_file(block_id: str):
    """The test-suite half of a code card: tests/code_checks/<id>.py, run after the card's code."""
    return CODE_CHECKS / (block_id.replace("#", "--") + ".py")


@pytest.mark.parametrize("block_id,code", PYTHON_BLOCKS, ids=[cid for cid, _ in PYTHON_BLOCKS])
def test_python_block_runs(block_id, code, tmp_path):
    """The card's code, then its checks (if any), in one fresh interpreter."""
    checks = check_file(block_id)
    program = code + ("\n" + checks.read_text(encoding="utf-8") if checks.exists() else "")
    result = subprocess.run([sys.executable, "-I", "-c", program], cwd=tmp_path, capture_output=True, text=True,
                            timeout=20)
    assert result.returncode == 0, result.stderr


def test_no_python_block_on_a_card_asserts():
    """A card shows only the code to write; the asserts that prove it live in tests/code_checks/ (issue 17)."""
    def asserts(code: str) -> bool:
        return any(token.type == tokenize.NAME and token.string == "assert"
                   for token in tokenize.generate_tokens(io.StringIO(code).readline))

    assert [block_id for block_id, code in PYTHON_BLOCKS if asserts(code)] == []


def test_every_code_check_belongs_to_a_block():
    known = {check_file(block_id).name for block_id, _ in PYTHON_BLOCKS}
    assert sorted(p.name for p in CODE_CHECKS.glob("*.py") if p.name not in known) == []


# --- (c) the seed coverage maps ------------------------------------------------------------------

QUESTION_WORDS = r"(What|How|Why|When|Which|Who|Where|Can|Do|Does|Is|Are|Should|Would|Could)\b"
IMPERATIVES = (r"(Explain|Differentiate|Describe|Define|Elaborate|Enumerate|Distinguish|Discuss|Elucidate|"
               r"Highlight|Compare|State|List|Give|Provide|Difference)\b")


def is_question_line(line: str) -> bool:
    """A seed line that asks something: it ends with '?', starts with 'Q<n>.', is a numbered or bulleted
    question or imperative prompt ('3. Explain ...', '- Differentiate ...'), or is a short imperative."""
    text = re.sub(r"^#+\s*", "", line.strip().replace("*", "").strip())
    if not text:
        return False
    body = re.sub(r"^(Q\d+\.|\d+\.|-|•)\s*", "", text)
    return bool(text.endswith("?") or re.match(r"Q\d+\.", text)
                or (re.match(r"(\d+\.|-)\s", text)
                    and (body.endswith("?") or re.match(IMPERATIVES, body) or re.match(QUESTION_WORDS, body)))
                or (re.match(IMPERATIVES, text) and text.endswith(".") and len(text) < 200))


def coverage_entries() -> list[dict]:
    entries = []
    for path in sorted(COVERAGE_DIR.glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            entries.append({**entry, "file": path.name})
    return entries


def test_coverage_maps_point_at_existing_cards():
    entries = coverage_entries()
    assert len(entries) > 100
    missing = [(e["file"], e["seed"], e["line"], card) for e in entries for card in e.get("cards") or []
               if card not in CARD_IDS]
    assert missing == []
    for entry in entries:
        assert entry.get("cards") or entry.get("excluded", "").strip(), entry


def test_every_seed_question_is_covered_or_excluded():
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    mapped = {(e["seed"], e["line"]) for e in coverage_entries()}
    questions, uncovered = 0, []
    for seed in sorted(SEEDS.glob("*.txt")):
        for number, line in enumerate(seed.read_text(encoding="utf-8").split("\n"), 1):
            if is_question_line(line):
                questions += 1
                if (seed.name, number) not in mapped:
                    uncovered.append(f"{seed.name}:{number}: {line.strip()[:80]}")
    assert questions > 120
    assert uncovered == []


def test_question_rule():
    assert is_question_line("3. Explain the Concept of Forward Propagation.")
    assert is_question_line("- Difference between multi-class and multi-label classification problems.")
    assert is_question_line("### Q3. You are given a 5x5 image with a 3x3 filter and a padding p = 1.")
    assert is_question_line("- What are the differences between a shallow network and a deep network.")
    assert not is_question_line("1. Constant learning rate: The weights are updated by a constant amount.")
    assert not is_question_line("- Removing noise from images")


# --- (d) images ----------------------------------------------------------------------------------

def test_every_image_exists_and_the_figure_script_exists():
    referenced = set()
    for path in sorted(CARD_DIR.glob("*.md")):
        for target in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            image = (path.parent / target).resolve()
            assert image.is_file(), f"{path.name}: {target}"
            referenced.add(image)
    shipped = {p.resolve() for p in (CARD_DIR / "img").glob("*.png")}
    assert referenced == shipped          # no missing and no orphaned figures
    assert (REPO / "scripts" / "make_figures.py").is_file()


# --- docs/deck.md: the category table matches the build ------------------------------------------------

def test_deck_page_category_table_matches_the_build(imported):
    col, _ = imported
    cards, notes = Counter(), defaultdict(set)
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        subdeck = col.decks.name(card.did).split("::", 1)[1]
        cards[subdeck] += 1
        notes[subdeck].add(card.nid)
    built = {subdeck: (cards[subdeck], len(notes[subdeck])) for subdeck in cards}

    page = (REPO / "docs" / "deck.md").read_text(encoding="utf-8")
    section = page.split("# The Deep Learning deck", 1)[1].split("\n## ", 1)[0]
    table = {}
    for row in re.findall(r"^\|(.+)\|\s*$", section, flags=re.M):
        cells = [c.strip().strip("*") for c in row.split("|")]
        if len(cells) == 3 and cells[1].isdigit():
            table[cells[0]] = (int(cells[1]), int(cells[2]))
    total = table.pop("Total")
    assert table == built
    assert total == (sum(c for c, _ in built.values()), sum(n for _, n in built.values()))
