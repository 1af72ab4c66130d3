"""With Anki desktop installed (`aqt`, as the AnkiConnect sync test needs), its own web files are used.

`_aqt` is a namespace package (no __init__.py): its `__file__` is None, its `__path__` says where it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cardsmith.commands.mathjax import installed_web_dir


def test_an_installed_anki_desktop_gives_its_web_folder():
    aqt_data = pytest.importorskip("_aqt", reason='Anki desktop is not installed (pip install "aqt[qt6]")')
    assert installed_web_dir() == Path(list(aqt_data.__path__)[0]) / "data" / "web"
