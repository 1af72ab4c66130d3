"""`cardsmith check`: quiet when clean, -v explains, --strict fails on warnings; the progress bar."""

from __future__ import annotations

import io

from cardsmith.commands.duplicates import near_duplicates, tokens
from cardsmith.progress import Progress

GOOD = "## What is a tensor?\n<!-- id: tensor -->\n\nAn n-dimensional array.\n"


def test_clean_project_prints_nothing(project):
    project.write({"cards/test/a.md": GOOD})
    result = project.run("check")
    assert (result.exit_code, result.output) == (0, "")
    assert not project.dist.exists()
    assert not (project.root / "decks" / "test.lock").exists()
    assert not (project.root / ".cache").exists()


def test_verbose_explains_what_was_checked(project):
    project.write({"cards/test/a.md": GOOD})
    result = project.run("check", "-v")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "Test Deck (decks/test.yaml): 1 file, 1 card parsed and rendered",
        "checked 1 card for near-duplicate questions, cloze numbering, math delimiters, unclosed HTML and "
        "external resources",
        "planned each deck's release from its lock file (nothing written)",
        "0 errors, 0 warnings.",
    ]


def test_strict_turns_warnings_into_errors(project):
    project.write({"cards/test/a.md": GOOD + "\n## What are tensors?\n<!-- id: tensors -->\n\nArrays.\n"})
    relaxed, strict = project.run("check"), project.run("check", "--strict")
    message = ("'tensors' asks the same question as 'tensor' at cards/test/a.md:1: merge them, make the questions "
               "distinct, or say `distinct: tensor` in its id comment")
    assert (relaxed.exit_code, relaxed.output) == (0, f"cards/test/a.md:6: warning: {message}\n0 errors, 1 warning.\n")
    assert (strict.exit_code, strict.output) == (
        1, f"cards/test/a.md:6: {message}\n1 error, 0 warnings (1 warning counted as errors: --strict).\n")


def test_near_duplicates_normalise_markup_and_spelling():
    assert tokens("What is **batch normalization** in $\\mathbb{R}^n$?") == tokens(
        "What's <b>batch normalisation</b> in $\\mathbb R^n$?")
    assert near_duplicates(["What is an autoencoder?", "What is an adversarial autoencoder?",
                            "Conv with stride 1?", "Conv with stride 2?"]) == []


def brute_force_pairs(questions: list[str]) -> set[tuple[int, int]]:
    """What comparing every pair reports (the definition near_duplicates must meet)."""
    from difflib import SequenceMatcher
    from itertools import combinations

    from cardsmith.commands.duplicates import NUMBER_WORDS, THRESHOLD

    docs = [tokens(q) for q in questions]
    numbers = [sorted(w for w in d if w.isdigit() or w in NUMBER_WORDS) for d in docs]
    return {(i, j) for i, j in combinations(range(len(docs)), 2) if docs[i] and docs[j] and numbers[i] == numbers[j]
            and SequenceMatcher(None, docs[i], docs[j], autojunk=False).ratio() >= THRESHOLD}


def test_near_duplicates_match_all_pairs_on_a_tiny_vocabulary():
    """Many near-duplicates, repeated words and every length from 1 to 24: nothing missed, nothing extra."""
    import random

    rng = random.Random(1)
    vocabulary = "gradient loss layer bias kernel stride token norm 2 3 alpha beta".split()
    questions = []
    for _ in range(400):
        if questions and rng.random() < 0.4:  # an edit of an earlier question: a likely near-duplicate
            words = rng.choice(questions).rstrip("?").split()
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
            if rng.random() < 0.5:
                words.insert(rng.randrange(len(words) + 1), rng.choice(vocabulary))
        else:
            words = rng.choices(vocabulary, k=rng.randint(1, 24))
        questions.append(" ".join(words) + "?")
    expected = brute_force_pairs(questions)
    assert len(expected) > 50  # the test means something
    assert {(m.earlier, m.later) for m in near_duplicates(questions)} == expected


def test_near_duplicates_compare_few_pairs(monkeypatch):
    """Thousands of questions over a realistic vocabulary: a few comparisons each, not all pairs."""
    import random

    from cardsmith.commands import duplicates

    compared = []
    original = duplicates.SequenceMatcher
    monkeypatch.setattr(duplicates, "SequenceMatcher", lambda *a, **k: compared.append(1) or original(*a, **k))
    rng = random.Random(0)
    vocabulary = [f"word{i}" for i in range(3000)]
    questions = [" ".join(rng.choices(vocabulary, k=rng.randint(3, 12))) + "?" for _ in range(5000)]
    questions += [q.replace("?", " exactly?") for q in questions[:50]]
    found = {(m.earlier, m.later) for m in near_duplicates(questions)}
    assert found >= {(i, 5000 + i) for i in range(50) if len(tokens(questions[i])) >= 6}
    assert len(compared) < 2 * len(questions)  # all pairs would be 12.6 million


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_bar_only_on_a_terminal_and_only_after_the_delay():
    for tty, delay, shown in ((True, 0.0, True), (False, 0.0, False), (True, 60.0, False)):
        stream = FakeTerminal(tty)
        with Progress("Checking", 3, stream=stream, delay=delay) as progress:
            for _ in range(3):
                progress(1)
        assert ("Checking" in stream.getvalue()) is shown, (tty, delay)


LONG_CODE = """## What does this code do?
<!-- id: long-code -->

```python
total = combine(first_argument_name, second_argument_name, third_argument_name)
    x = np.concatenate([first_array_of_values,second_array_of_values])
```
"""


def test_code_that_cannot_wrap_on_a_phone_is_a_warning(project):
    """Code wraps at spaces on a phone: a long line with spaces is fine, a long run without one is not."""
    project.write({"cards/test/a.md": GOOD + "\n" + LONG_CODE})
    result = project.run("check")
    word = "np.concatenate([first_array_of_values,second_array_of_values])"
    assert (result.exit_code, result.output) == (0, (
        f"cards/test/a.md:11: warning: code `{word[:37]}...` ({len(word)} characters without a space) is too long "
        "for a row of a 412 px phone screen (42 characters, less the line's indentation): it scrolls sideways; "
        "break the line at a space or shorten it\n0 errors, 1 warning.\n"))


def test_unbreakable_counts_the_rows_a_phone_wraps_a_line_into():
    from cardsmith.commands.phonefit import CODE_COLUMNS, HANGING_INDENT, unbreakable

    assert CODE_COLUMNS == 42 and HANGING_INDENT == 4
    assert unbreakable("x" * 42) is None and unbreakable("x" * 43) == "x" * 43
    assert unbreakable("    " + "y" * 38) is None and unbreakable("    " + "y" * 39) == "y" * 39
    assert unbreakable("a = " + "z" * 38) is None  # fills the first row
    assert unbreakable("a = b + " + "z" * 38) is None  # onto a continuation row: 4 columns in
    assert unbreakable("a = b + " + "z" * 39) == "z" * 39
    assert unbreakable("    a = " + "z" * 34) is None and unbreakable("    a = " + "z" * 35) == "z" * 35
    assert unbreakable("\tb = 1") is None and unbreakable("\t" * 5 + "w" * 3) == "w" * 3  # tabs: 8 columns


def test_inline_formula_too_wide_for_a_phone_is_a_warning(project):
    long_sum = " + ".join(f"w_{{{i}}} x_{{{i}}}" for i in range(1, 12))
    project.write({"cards/test/a.md": GOOD + f"""
## What does a neuron compute?
<!-- id: wide-formula -->

It computes ${long_sum}$, or $\\sum_i w_i x_i$ for short, or as a display formula:

$${long_sum}$$
"""})
    result = project.run("check")
    assert (result.exit_code, result.output) == (0, (
        "cards/test/a.md:9: warning: inline formula `w_{1} x_{1} + w_{2} x_{2} + w_{3} x_{...` is about 690 px wide, "
        "wider than a line of a 412 px phone screen (388 px): make it a display formula ($$…$$ on its own lines) or "
        "shorten it\n0 errors, 1 warning.\n"))


JAVASCRIPT_LINKS = """
## Does a Markdown link run?
<!-- id: markdown-link -->

[x](javascript:alert(1))

## What about a reference definition?
<!-- id: reference-link -->

See [y][r].

[r]: javascript:alert(2)

## Can a tab hide the scheme?
<!-- id: disguised-link -->

<a href="jav&#x09;ascript:alert(3)">z</a>

## Are character references decoded in destinations?
<!-- id: encoded-link -->

[w](&#106;avascript:alert(4))

## Is the scheme's case ignored?
<!-- id: upper-case-link -->

[v](JaVaScRiPt:alert(5))
"""


def test_check_warns_about_javascript_links_however_written(project):
    """Each renders as a live `javascript:` link in Anki (a browser drops tabs and newlines from a URL, and
    reads its scheme in any case): warned as a script is, on its line."""
    project.write({"cards/test/a.md": JAVASCRIPT_LINKS})
    result = project.run("check")
    warning = ("warning: `javascript:` link in a card: Anki runs it whenever the card is shown (`cardsmith preview` "
               "only with --allow-scripts)")
    assert result.output.splitlines() == [f"cards/test/a.md:{line}: {warning}" for line in (4, 11, 16, 21, 26)] + [
        "0 errors, 5 warnings."]


EXTERNAL = """
## Which resources need a network?
<!-- id: external -->

<img src='https://example.com/single.png'>
<img src=https://example.com/bare.png>
<img src = "https://example.com/spaced.png">
<video poster="//example.com/poster.png"></video>
"""


def test_check_finds_external_resources_however_their_attributes_are_written(project):
    project.write({"cards/test/a.md": EXTERNAL})
    lines = project.run("check").output.splitlines()
    image = ": it does not load offline (AnkiDroid without a network); save the file next to the card file and link it relatively"
    assert lines == [
        f"cards/test/a.md:4: warning: external image https://example.com/single.png{image}",
        f"cards/test/a.md:5: warning: external image https://example.com/bare.png{image}",
        f"cards/test/a.md:6: warning: external image https://example.com/spaced.png{image}",
        f"cards/test/a.md:7: warning: external resource //example.com/poster.png{image.replace('image', 'resource')}",
        "0 errors, 4 warnings.",
    ]


def test_questions_that_differ_inside_a_formula_are_no_near_duplicates(project):
    same = "What does the following identity about the union of the two sets say"
    project.write({"cards/test/a.md": f"## {same}: $A \\cup B$?\n<!-- id: union -->\n\nOne.\n\n"
                                      f"## {same}: $A \\cap B$?\n<!-- id: meet -->\n\nTwo.\n\n"
                                      f"## {same}: \\(A \\cap B\\)?\n<!-- id: meet-html -->\n\nThree.\n"})
    result = project.run("check")
    assert "'meet' asks" not in result.output
    assert "'meet-html' asks" in result.output  # `\(…\)` typed by hand: the same formula as `$…$`


def test_a_card_can_say_it_is_distinct_from_a_near_duplicate(project):
    project.write({"cards/test/a.md": GOOD + "\n## What are tensors?\n<!-- id: tensors; distinct: tensor -->\n\nArrays.\n"
                   + "\n## What is a tensor, then?\n<!-- id: tensor-again -->\n\nStill arrays.\n"})
    result = project.run("check")
    assert "'tensors' asks" not in result.output
    assert "'tensor-again' asks the same question as 'tensor'" in result.output
    project.write({"cards/test/a.md": GOOD + "\n## What are tensors?\n<!-- id: tensors; distinct: tensor -->\n\nArrays.\n"
                   + "\n## What is a tensor, then?\n<!-- id: tensor-again; distinct: tensor tensors -->\n\nArrays!\n"})
    assert project.run("check", "--strict").exit_code == 0


def test_formulas_are_found_in_linear_time_and_compared_without_spaces():
    from cardsmith.commands.duplicates import formulas

    assert formulas("$a + b$ and \\(c\\) [$]d[/$] [latex]e f[/latex] [$$]g[/$$] \\[h\\]") == [
        "a+b", "c", "d", "ef", "g", "h"]
    assert formulas("$5 and $10", markdown=False) == []
    assert formulas("\\(" * 100_000) == [] and formulas("[$]" * 100_000 + "\\(x\\)", markdown=False) == ["x"]
