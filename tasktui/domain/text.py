"""The hostile-text policy: which characters are unsafe to show, and how each rendering
makes them safe.

Text from the service (task fields, server error messages, file contents) is data. A
character is unsafe when a terminal may act on it or when it can make text lie about
itself on screen:

- C0 controls (U+0000..U+001F, escape sequences start with ESC) and DEL (U+007F);
- C1 controls (U+0080..U+009F; some terminals honour them as CSI / OSC / DCS);
- bidirectional marks, embeddings, overrides and isolates (U+200E/F, U+061C,
  U+202A..U+202E, U+2066..U+2069: the "Trojan source" characters);
- the line and paragraph separators U+2028 / U+2029.

The set lives here once; the functions below are its renderings: made visible
(``clean``, ``one_line``), blanked for one line of an error message
(``clean_for_error``), or escaped inside JSON text (``json_escape_unsafe`` and its
UTF-8 twin ``json_escape_unsafe_utf8``). Pure: no I/O, no Rich, no Textual.
"""

from __future__ import annotations

import re
from typing import Any

C0_CONTROLS = frozenset(range(0x00, 0x20))
DEL = 0x7F
C1_CONTROLS = frozenset(range(0x80, 0xA0))
BIDI_CONTROLS = frozenset({0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
SEPARATORS = frozenset({0x2028, 0x2029})

#: Every unsafe code point.
UNSAFE = frozenset({*C0_CONTROLS, DEL, *C1_CONTROLS, *BIDI_CONTROLS, *SEPARATORS})
#: The unsafe code points that a JSON serializer leaves as they are (it escapes C0 inside
#: strings, and outside strings JSON text holds no C0 but whitespace).
JSON_UNSAFE = UNSAFE - C0_CONTROLS

#: Longest text ``clean_for_error`` keeps by default.
MAX_ERROR_TEXT = 300


def _char_class(code_points: frozenset[int]) -> str:
    return "".join(re.escape(chr(cp)) for cp in sorted(code_points))


_VISIBLE_RE = re.compile(f"[{_char_class(UNSAFE - {0x0A, 0x09})}]")
_ERROR_RE = re.compile(f"[{_char_class(UNSAFE)}]")
_JSON_RE = re.compile(f"[{_char_class(JSON_UNSAFE)}]")
_SPACES_RE = re.compile(r"\s+")


def is_unsafe(char: str) -> bool:
    """Whether the one character ``char`` is unsafe to show as it is."""
    return ord(char) in UNSAFE


def visible(char: str) -> str:
    """The visible, inert stand-in of one unsafe character: the Unicode control
    picture for C0 (ESC as ``␛``) and DEL (``␡``), ``⟨9B⟩`` for C1, ``⟨U+202E⟩`` for
    the others."""
    o = ord(char)
    if o < 0x20:
        return chr(0x2400 + o)
    if o == DEL:
        return "\u2421"
    if o <= 0x9F:
        return f"⟨{o:02X}⟩"
    return f"⟨U+{o:04X}⟩"


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def clean(value: Any, *, multiline: bool = True) -> str:
    """``value`` as a string with every unsafe character made visible and inert
    (``\\x1b[31m`` shows as ``␛[31m``); ``\\r\\n`` and a lone ``\\r`` become ``\\n``.

    Newline and tab are kept; with ``multiline=False`` they become spaces (table cells,
    one-line labels). None is the empty string.
    """
    text = _as_text(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _VISIBLE_RE.sub(lambda m: visible(m.group(0)), text)
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def one_line(value: Any, width: int | None = None) -> str:
    """``clean(value, multiline=False)``, shortened to ``width`` when given."""
    text = clean(value, multiline=False)
    return shorten(text, width) if width else text


def clean_for_error(value: Any, limit: int = MAX_ERROR_TEXT) -> str:
    """Outside text fit for one line of an error message: each unsafe character becomes
    a space, runs of whitespace one space, and the result is at most ``limit``
    characters (an ellipsis marks a cut)."""
    text = _ERROR_RE.sub(" ", str(value))
    text = _SPACES_RE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def json_escape_unsafe(text: str) -> str:
    """Serialized JSON text with each unsafe character a serializer leaves raw (DEL, C1,
    bidi, separators) written as a ``\\uXXXX`` escape: an equal JSON document that
    a terminal shows literally. Such characters can only sit inside strings."""
    return _JSON_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _utf8_leads(code_points: frozenset[int]) -> tuple[frozenset[bytes], tuple[tuple[bytes, int], ...]]:
    encoded = frozenset(chr(cp).encode("utf-8") for cp in code_points)
    leads = sorted({(e[:1], len(e)) for e in encoded})
    return encoded, tuple(leads)


_JSON_UNSAFE_UTF8, _JSON_UNSAFE_LEADS = _utf8_leads(JSON_UNSAFE)


def json_escape_unsafe_utf8(data: bytes) -> bytes:
    """``json_escape_unsafe`` on UTF-8 JSON bytes, without decoding them: each unsafe
    character starts with one of a few lead bytes (never a continuation byte), found
    with ``bytes.find`` (memchr), so a page without any costs next to nothing."""
    hits: list[tuple[int, int, bytes]] = []
    find = data.find
    for lead, width in _JSON_UNSAFE_LEADS:
        i = find(lead)
        while i != -1:
            ch = data[i:i + width]
            if ch in _JSON_UNSAFE_UTF8:
                hits.append((i, width, ch))
            i = find(lead, i + 1)
    if not hits:
        return data
    hits.sort()
    parts: list[bytes] = []
    pos = 0
    for i, width, ch in hits:
        parts.append(data[pos:i])
        parts.append(b"\\u%04x" % ord(ch.decode("utf-8")))
        pos = i + width
    parts.append(data[pos:])
    return b"".join(parts)
