"""Task text (data from the service) as text that is safe to put on screen, for the UI.

The policy itself -- which characters are unsafe (C0 / C1 controls, DEL, bidi marks, the
line and paragraph separators U+2028 / U+2029) and how each is made visible or escaped --
is :mod:`tasktui.domain.text`; this module re-exports its renderings the screens use and
adds the two that need Rich or JSON: :func:`safe_text` (a literal ``rich.text.Text``,
never markup) and :func:`pretty_json` (indented JSON with every unsafe character an
escape, so that JSON on screen or in the fix editor has exactly one line per line).
"""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style
from rich.text import Text

from tasktui.domain.text import clean, json_escape_unsafe, one_line, shorten

__all__ = ["clean", "one_line", "pretty_json", "safe_text", "shorten"]


def safe_text(value: Any, style: str | Style = "", *, multiline: bool = True) -> Text:
    """A ``rich.text.Text`` of ``value``: literal (no markup), control chars visible."""
    return Text(clean(value, multiline=multiline), style=style, no_wrap=False)


def pretty_json(value: Any) -> str:
    """``value`` as indented JSON that is safe to show and equal in meaning: ``json.dumps``
    escapes C0 controls inside strings; DEL, C1 controls, bidi marks and the separators
    U+2028 / U+2029 are escaped too (``\\u2028``)."""
    return json_escape_unsafe(json.dumps(value, indent=2, ensure_ascii=False, default=str))
