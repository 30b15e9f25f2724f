"""Turn task text (data from the service) into text that is safe to put on screen.

Task fields are data: they are never interpreted as Rich markup and no escape
sequence in them may reach the terminal. Everything here returns plain ``str``
with every control character replaced by a visible stand-in, or a
``rich.text.Text`` built from such a string (``Text`` never parses markup).

- C0 controls (except newline and tab) become their Unicode "control pictures"
  (ESC shows as ``␛``, BEL as ``␇``), DEL as ``␡``; so ``\\x1b[31m`` shows as
  ``␛[31m``: visible, literal and inert.
- C1 controls (U+0080..U+009F, which some terminals honour as CSI / OSC / DCS)
  show as ``⟨9B⟩``.
- Bidirectional overrides and isolates (the "Trojan source" characters) show as
  ``⟨U+202E⟩`` so that text cannot reorder itself on screen.
- ``\\r\\n`` and lone ``\\r`` become ``\\n``.

Dependency-free beyond Rich: the Tasks screen and the detail screen share it.
"""

from __future__ import annotations

import re
from typing import Any

from rich.style import Style
from rich.text import Text

__all__ = ["clean", "one_line", "pretty_json", "safe_text", "shorten"]

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f" + _BIDI + "]")


def _picture(m: re.Match[str]) -> str:
    c = m.group(0)
    o = ord(c)
    if o < 0x20:
        return chr(0x2400 + o)
    if o == 0x7F:
        return "\u2421"
    if o <= 0x9F:
        return f"⟨{o:02X}⟩"
    return f"⟨U+{o:04X}⟩"


def clean(value: Any, *, multiline: bool = True) -> str:
    """``value`` as a string with every control character made visible and inert.

    With ``multiline=False`` newlines and tabs become spaces (for table cells and
    single-line labels).
    """
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_RE.sub(_picture, text)
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters with an ellipsis."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def one_line(value: Any, width: int | None = None) -> str:
    """Single-line safe text, optionally shortened to ``width``."""
    text = clean(value, multiline=False)
    return shorten(text, width) if width else text


def safe_text(value: Any, style: str | Style = "", *, multiline: bool = True) -> Text:
    """A ``rich.text.Text`` of ``value``: literal (no markup), control chars visible."""
    return Text(clean(value, multiline=multiline), style=style, no_wrap=False)


_JSON_UNSAFE_RE = re.compile("[\x7f\x80-\x9f" + _BIDI + "]")


def pretty_json(value: Any) -> str:
    """``value`` as indented JSON that is safe to show: ``json.dumps`` already
    escapes C0 controls inside strings; DEL, C1 controls and bidi overrides are
    escaped too (``\\u009b``), which keeps the JSON valid and equal in meaning."""
    import json

    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
