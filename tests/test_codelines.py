"""cardsmith/codelines.py: every line of a highlighted code block is an element carrying its indentation."""

from __future__ import annotations

import html
import re

import markdown

from cardsmith.render import MARKDOWN_CONFIG, MARKDOWN_EXTENSIONS

SOURCE = """Some `inline code` stays as it is.

```python
def f(x):
    return '<a>' if x else "&"

  # two spaces
```

    an indented block
"""


def test_each_code_line_is_an_element_with_its_indentation():
    page = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG).convert(SOURCE)
    assert "<code>inline code</code>" in page
    assert re.findall(r'<span class="cs-line" style="--indent:(\d+)">', page) == ["0", "4", "0", "2", "0"]
    blocks = re.findall(r"<code>(<span class=\"cs-line\".*?)</code>", page, flags=re.S)
    assert len(blocks) == 2
    # Nothing lost or added: the text of a block is the code, each line still ending in its newline
    # (so that without base.css the block looks as it did before, and copying it gives the code).
    text = [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]
    assert text == ["def f(x):\n    return '<a>' if x else \"&\"\n\n  # two spaces\n", "an indented block\n"]
    assert page.count("\n</span>") == 5  # each line element ends with its line's newline


def test_reused_formatters_and_lexers_give_the_same_html():
    """render.ReusedHighlighting keeps one Pygments formatter per set of options and one lexer per language; the
    HTML is the one pymdownx gives when it makes both anew for every block (compared in a fresh process)."""
    import subprocess
    import sys

    text = ("```python\nx = 1  # one\n```\n\n```python hl_lines=\"2\"\na = 1\nb = 2\n```\n\n```bash\necho $HOME\n```\n\n"
            "```\nplain\n```\n\n```python\nprint('again')\n```\n")
    code = ("import sys, markdown\nfrom cardsmith import render\n"
            "if sys.argv[1] == 'plain': render.MARKDOWN_EXTENSIONS.remove('cardsmith.render:ReusedHighlighting')\n"
            "md = markdown.Markdown(extensions=render.MARKDOWN_EXTENSIONS, extension_configs=render.MARKDOWN_CONFIG)\n"
            f"print(md.convert({text!r}) + md.reset().convert({text!r}))")
    reused, plain = (subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, check=True).stdout
                     for mode in ("reuse", "plain"))
    assert reused == plain and reused.count('class="highlight"') == 10 and "hll" in reused
