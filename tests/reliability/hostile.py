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


# --------------------------------------------------------------------------- hostile tasks
#: numbers that overflow a drawing, a float conversion or a format
EXTREME_NUMBERS = [0, -0.0, 1e19, -1e19, 1e300, 1e308, -1e308, float("inf"), float("-inf"), float("nan"),
                   2**63, -(2**63), 2**70, 10**40, 5e-324, 1e-300, 0.1]
#: timestamps at the edges of the calendar, with offsets that push them past it
EDGE_TIMES = [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-12:00",
    "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59+14:00",
    "1970-01-01T00:00:00Z", "2026-03-08T10:00:00Z", "2026-11-01T09:30:00Z", "", "not a date", "2026-02-30T00:00:00Z",
]


def numbers() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(EXTREME_NUMBERS), st.integers(-10**30, 10**30),
                     st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(), hostile_text(3))


def times() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(EDGE_TIMES), hostile_text(4),
                     st.datetimes().map(lambda d: d.isoformat() + "Z"))


def big_text(max_kb: int) -> st.SearchStrategy[str]:
    """Long text: a hostile piece repeated (separators, controls, bidi, Markdown)."""
    unit = st.one_of(hostile_text(4), st.sampled_from(["# Title\n\n", "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
                                                        "- item\n", "```\ncode\n```\n", "x\u2028y\u2029z "]))
    return st.tuples(unit, st.integers(0, max_kb * 1000)).map(lambda p: (p[0] * (p[1] // max(1, len(p[0])) + 1))[: p[1]])


def nested(depth: int, leaf: st.SearchStrategy) -> st.SearchStrategy:
    """A value ``depth`` lists / dicts deep around ``leaf``."""
    return st.tuples(leaf, st.lists(st.booleans(), min_size=depth, max_size=depth)).map(
        lambda p: _wrap(p[0], p[1]))


def _wrap(value, kinds):
    for as_dict in kinds:
        value = {"k": value} if as_dict else [value]
    return value


def _box() -> st.SearchStrategy:
    return st.fixed_dictionaries({"label": hostile_text(4), "left": numbers(), "top": numbers(),
                                  "width": numbers(), "height": numbers()})


def _polygon() -> st.SearchStrategy:
    vertex = st.one_of(st.fixed_dictionaries({"x": numbers(), "y": numbers()}), st.lists(numbers(), max_size=3))
    return st.fixed_dictionaries({"label": hostile_text(4), "vertices": st.lists(vertex, max_size=6)})


def _cuboid() -> st.SearchStrategy:
    xyz = st.fixed_dictionaries({"x": numbers(), "y": numbers(), "z": numbers()})
    return st.fixed_dictionaries({"label": hostile_text(4), "position": xyz, "dimensions": xyz, "yaw": numbers()})


def hostile_tasks(max_kb: int = 60) -> st.SearchStrategy[dict]:
    """Wire documents of tasks as a hostile or careless backend can send them: extreme
    numbers in the geometry, dates at the calendar's edges, long and deeply nested
    values, separators, control and bidi characters in every text field."""
    text = hostile_text(8)
    response = st.fixed_dictionaries({"annotations": st.lists(st.one_of(_box(), _polygon(), _cuboid()), max_size=8)},
                                     optional={"note": big_text(max_kb), "deep": nested(200, json_values())})
    audit = st.fixed_dictionaries({}, optional={
        "audited_at": times(), "accepted": st.one_of(st.booleans(), st.none(), text), "audit_result": text,
        "audited_by": text, "comments": st.one_of(big_text(max_kb), json_values()), "audit_time_secs": numbers(),
        "audit_source": text, "extra": json_values()})
    return st.fixed_dictionaries(
        {"task_id": text.filter(bool) | st.just("t1"), "status": st.sampled_from(
            ["pending", "completed", "canceled", "error", "queued"]) | text},
        optional={
            "type": text, "project": text, "batch": text, "unique_id": text,
            "created_at": times(), "updated_at": times(), "completed_at": times(), "custom_at": times(),
            "instruction": big_text(max_kb) | text,
            "params": st.fixed_dictionaries({}, optional={"attachment": text, "attachment_type": text,
                                                          "extra": json_values()}),
            "metadata": st.one_of(json_values(), nested(300, text), st.dictionaries(text, big_text(max_kb), max_size=3)),
            "response": response, "prior_responses": st.lists(response, max_size=2),
            "audits": st.lists(audit, max_size=3), "tags": st.lists(text, max_size=20),
            "customer_review_status": text, "customer_review_comments": st.lists(big_text(max_kb) | text, max_size=3),
            "error": text, "callback_url": text, "work_started": st.booleans() | text,
        })
