"""The hostile-text policy against literal strings: which characters are unsafe, and what
each rendering makes of them."""

from __future__ import annotations

import json

import pytest

from tasktui.domain.text import (
    UNSAFE,
    clean,
    clean_for_error,
    is_unsafe,
    json_escape_unsafe,
    json_escape_unsafe_utf8,
    one_line,
    shorten,
)

# Written out by hand, not derived from the module: the list the policy promises.
PROMISED = [
    "\x00", "\x07", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f",
    "\u061c", "\u200e", "\u200f",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
    "\u2028", "\u2029",
]
HARMLESS = ["a", " ", "~", "\xa0", "é", "\u200b", "\u2030", "\u2065", "\u206a", "\u0600", "😀"]


@pytest.mark.parametrize("char", PROMISED)
def test_the_promised_characters_are_unsafe(char):
    assert is_unsafe(char)


@pytest.mark.parametrize("char", HARMLESS)
def test_ordinary_characters_are_not(char):
    assert not is_unsafe(char)


def test_the_set_has_exactly_the_promised_size():
    # 32 C0 + DEL + 32 C1 + 12 bidi + 2 separators
    assert len(UNSAFE) == 79


def test_clean_makes_escape_sequences_visible_and_inert():
    assert clean("\x1b[31mred\x1b[0m") == "␛[31mred␛[0m"
    assert clean("bell\x07 del\x7f") == "bell␇ del␡"
    assert clean("csi\x9b2J") == "csi⟨9B⟩2J"


def test_clean_shows_bidi_overrides_and_separators_by_code_point():
    assert clean("abc\u202edcba\u202c") == "abc⟨U+202E⟩dcba⟨U+202C⟩"
    assert clean("x\u2066y\u2069\u200e\u061c") == "x⟨U+2066⟩y⟨U+2069⟩⟨U+200E⟩⟨U+061C⟩"
    assert clean("one\u2028two\u2029") == "one⟨U+2028⟩two⟨U+2029⟩"


def test_clean_keeps_newline_and_tab_and_normalises_carriage_returns():
    assert clean("a\r\nb\rc\td\n") == "a\nb\nc\td\n"
    assert clean("a\r\nb\tc", multiline=False) == "a b c"


def test_clean_of_non_text():
    assert clean(None) == ""
    assert clean(42) == "42"
    assert clean("plain é 😀") == "plain é 😀"


def test_one_line_and_shorten():
    assert one_line("a\nb\x1b", 10) == "a b␛"
    assert one_line("abcdefghij", 5) == "abcd…"
    assert one_line("abc") == "abc"
    assert shorten("abc", 0) == ""
    assert shorten("abc", 3) == "abc"


def test_clean_for_error_blanks_every_unsafe_character_and_collapses_space():
    assert clean_for_error("bad \x1b[31mred\x1b[0m\nline\u2028two") == "bad [31mred [0m line two"
    assert clean_for_error("evil\u202eexe.txt\u2066") == "evil exe.txt"
    assert clean_for_error("  \x85 \x9b ") == ""


def test_clean_for_error_bounds_the_length():
    assert clean_for_error("x" * 400) == "x" * 299 + "…"
    assert clean_for_error("abcdef ghij", 8) == "abcdef…"
    assert clean_for_error(ValueError("why")) == "why"


def test_json_escape_unsafe_keeps_the_document_equal():
    doc = {"a": "x\x7fy\x9bz\u202e\u2028", "b": "line\nnext\x1b"}
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    safe = json_escape_unsafe(text)
    assert safe == ('{\n  "a": "x\\u007fy\\u009bz\\u202e\\u2028",\n'
                    '  "b": "line\\nnext\\u001b"\n}')
    assert json.loads(safe) == doc


def test_json_escape_unsafe_leaves_structural_whitespace_and_safe_text():
    text = '[\n\t"é", "\u200b"\r\n]'
    assert json_escape_unsafe(text) == text


def test_the_utf8_rendering_agrees_with_the_text_one():
    text = '{"t":"a\u202eb\x85c\u061cd\x7fe\u2069f\u2029é€😀"}'
    assert json_escape_unsafe_utf8(text.encode()) == json_escape_unsafe(text).encode()
    assert json_escape_unsafe_utf8(text.encode()) == (
        b'{"t":"a\\u202eb\\u0085c\\u061cd\\u007fe\\u2069f\\u2029' + "é€😀".encode() + b'"}')


def test_the_utf8_rendering_returns_clean_input_as_it_is():
    data = '{"t":"plain, é and € and \u2030"}'.encode()
    assert json_escape_unsafe_utf8(data) is data
