"""Task text is data: tasktui.ui.safe makes every control character visible and inert,
and never interprets markup."""

import json

from rich.console import Console
from rich.text import Text

from tasktui.server.seed import HOSTILE
from tasktui.ui.safe import clean, one_line, pretty_json, safe_text, shorten


def test_clean_makes_escape_sequences_visible():
    assert clean("\x1b[31mred\x1b[0m") == "␛[31mred␛[0m"
    assert clean("a\x07b\x00c\x08d\x7f") == "a␇b␀c␈d␡"
    assert clean("C1 \x9b31m") == "C1 ⟨9B⟩31m"
    assert clean("x\u202eevil") == "x⟨U+202E⟩evil"


def test_clean_keeps_newlines_and_tabs_and_normalises_cr():
    assert clean("a\r\nb\rc\td\n") == "a\nb\nc\td\n"
    assert clean("a\nb\tc", multiline=False) == "a b c"


def test_clean_accepts_non_strings():
    assert clean(None) == ""
    assert clean(12) == "12"


def test_every_hostile_seed_string_loses_its_control_characters():
    for s in HOSTILE:
        out = clean(s)
        assert not any(ord(c) < 0x20 and c not in "\n\t" for c in out), repr(out)
        assert not any(0x7F <= ord(c) <= 0x9F for c in out), repr(out)


def test_safe_text_never_interprets_markup():
    t = safe_text("[bold red]URGENT[/bold red] [link=https://evil.invalid/]x[/link]")
    assert isinstance(t, Text)
    assert t.plain == "[bold red]URGENT[/bold red] [link=https://evil.invalid/]x[/link]"
    assert not t.spans
    console = Console(record=True, width=200, color_system=None)
    console.print(t)
    assert "[bold red]URGENT[/bold red]" in console.export_text()


def test_one_line_and_shorten():
    assert one_line("a\nb\x1bc", 4) == "a b…"
    assert shorten("abcdef", 6) == "abcdef"
    assert shorten("abcdef", 3) == "ab…"
    assert shorten("abc", 0) == ""


def test_pretty_json_escapes_c1_and_bidi_but_stays_equal():
    value = {"k\x1b": "v\x9b31m \u202e x\x7f", "n": [1, 2]}
    text = pretty_json(value)
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text and "\x7f" not in text
    assert "\\u001b" in text and "\\u009b" in text and "\\u202e" in text
    assert json.loads(text) == value
