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
