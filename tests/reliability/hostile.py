"""Hostile text for property-based and screen tests: Rich markup, escape sequences
(CSI, OSC 52, OSC 8, bare ESC, C1 controls, BEL), bidi overrides, and arbitrary unicode."""

from __future__ import annotations

import re

from hypothesis import strategies as st

#: fragments an attacker (or a careless labeler) can put in a task field
FRAGMENTS = [
    "[bold]", "[/]", "[/bold]", "[bold red]x[/bold red]", "[link=https://evil.example]click[/link]",
    "[@click=app.quit]quit[/]", "[@click=app.exit]", "[reverse]", "[blink]", "[on red]",
    "\\[escaped]", "[", "]", "[/link]", ":smile:", "${HOME}", "{task_id}", "%s",
    "\x1b[31m", "\x1b[0m", "\x1b[2J", "\x1b[H", "\x1b[?1049h", "\x1b[6n", "\x1b[?25l",
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: set the clipboard
    "\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b]0;title\x07",  # OSC 0: window title
    "\x1bP+q544e\x1b\\",  # DCS
    "\x1b", "\x07", "\x08", "\x7f", "\x00", "\r", "\r\n", "\t", "\x0b", "\x0c",
    "\x9b31m", "\x9d52;c;ZXZpbA==\x9c", "\x90", "\x85", "\x9b",  # C1: CSI, OSC, ST, DCS, NEL
    "\u202e", "\u2066", "\u200f",  # bidi overrides / isolates
    "\u200b", "\ufeff", "\u2028", "\u2029",
    "😀", "👩\u200d👩\u200d👧", "漢字", "e\u0301", "ﷺ", "\U0010fffd",
]

#: every byte a terminal may act on: C0 except tab / newline, DEL, C1
TERMINAL_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
#: line and paragraph separators: line breaks to many viewers, so never shown raw
SEPARATORS = "\u2028\u2029"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def hostile_text(max_size: int = 12) -> st.SearchStrategy[str]:
    """Concatenations of hostile fragments and arbitrary unicode (incl. surrogates-free
    controls), so that both known attacks and random text are covered."""
    piece = st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(st.characters(codec="utf-8"), max_size=8),
        st.text(st.characters(min_codepoint=0, max_codepoint=0x9F), max_size=6),
    )
    return st.lists(piece, max_size=max_size).map("".join)


def json_values(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy:
    text = text if text is not None else hostile_text(6)
    return st.recursive(
        st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | text,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
        max_leaves=12,
    )


#: one task whose every rendered field is hostile (used by the screen tests)
HOSTILE = (
    "[bold red]HOSTILE[/] [@click=app.quit]q[/] [link=https://evil.example]l[/link] "
    "\x1b[31mRED\x1b[0m \x1b]52;c;ZXZpbA==\x07 \x1b]8;;https://evil.example\x1b\\L\x1b]8;;\x1b\\ "
    "\x9b2J \x07BEL \x1b[2J \u202eRTL"
)
