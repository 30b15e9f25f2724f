"""Property-based: arbitrary unicode, Rich markup and escape sequences given to the
helpers that turn task data into screen text are never interpreted, and no control
byte from the data reaches the terminal."""

from __future__ import annotations

import io
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from tasktui.domain import Task
from tasktui.ui.safe import clean, one_line, pretty_json, safe_text, shorten
from tasktui.ui.widgets.status import audit_text, status_text

from .hostile import BIDI, FRAGMENTS, SEPARATORS, TERMINAL_CONTROL_RE, hostile_text, json_values

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SGR_RE = re.compile(r"\x1b\[[0-9;]*m")


def render(renderable, *, width: int = 60) -> str:
    """What Rich writes to a colour terminal for ``renderable``."""
    buf = io.StringIO()
    Console(file=buf, force_terminal=True, color_system="truecolor", width=width,
            legacy_windows=False, emoji=False, highlight=False).print(renderable)
    return buf.getvalue()


def assert_inert(s: str) -> None:
    assert not TERMINAL_CONTROL_RE.search(s), repr(s)
    assert not any(c in BIDI + SEPARATORS for c in s), repr(s)


@FAST
@given(hostile_text())
def test_clean_leaves_nothing_a_terminal_acts_on(s: str) -> None:
    assert_inert(clean(s))
    one = clean(s, multiline=False)
    assert_inert(one)
    assert "\n" not in one and "\t" not in one


@FAST
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")).filter(lambda c: c not in BIDI)))
def test_plain_text_is_shown_literally(s: str) -> None:
    # text without controls -- markup included -- comes out exactly as it went in
    assert clean(s) == s
    assert safe_text(s).plain == s


@FAST
@given(hostile_text(), st.sampled_from(["", "bold", "bold red", "italic #ff8800 on blue"]))
def test_safe_text_is_never_markup_and_renders_without_data_escapes(s: str, style: str) -> None:
    t = safe_text(s, style)
    assert t.plain == clean(s)
    assert t.spans == []  # no markup was interpreted: no span came from the data
    out = render(t)
    # the only escape sequences are the SGR colours of our own style
    assert_inert(SGR_RE.sub("", out).replace("\n", ""))
    if not style:
        assert "\x1b" not in out


@FAST
@given(hostile_text(), st.integers(0, 40))
def test_one_line_is_one_line_and_bounded(s: str, width: int) -> None:
    out = one_line(s, width or None)
    assert_inert(out)
    assert "\n" not in out
    if width:
        assert len(out) <= width
        assert out == shorten(clean(s, multiline=False), width)


@FAST
@given(json_values())
def test_pretty_json_is_equal_in_meaning_and_inert(v) -> None:
    out = pretty_json(v)
    assert json.loads(out) == v
    assert_inert(out.replace("\n", ""))


@FAST
@given(hostile_text())
def test_status_cells_of_an_unknown_hostile_status(s: str) -> None:
    task = Task.from_wire({"task_id": "t1", "status": s or "x", "customer_review_status": s})
    for t in (status_text(task), audit_text(task)):
        assert isinstance(t, Text)
        assert t.spans == []
        assert_inert(t.plain)
        assert_inert(SGR_RE.sub("", render(t)).replace("\n", ""))


def test_every_known_fragment_is_literal_or_a_visible_stand_in() -> None:
    for frag in FRAGMENTS:
        out = clean(frag)
        assert_inert(out)
        if not TERMINAL_CONTROL_RE.search(frag) and not any(c in BIDI + SEPARATORS for c in frag) and "\r" not in frag:
            assert out == frag  # markup stays literal text
    assert clean("\x1b[31mred") == "␛[31mred"
    assert clean("[bold]x[/]") == "[bold]x[/]"


# the table's cells -----------------------------------------------------------------

_TABLE = None


def _table():
    global _TABLE
    if _TABLE is None:
        from tasktui.ui.widgets.task_table import TaskTable

        _TABLE = TaskTable()
    return _TABLE


@FAST
@given(st.fixed_dictionaries({k: hostile_text(6) for k in ("task_id", "project", "batch", "type", "status")}),
       st.sampled_from([1, 2, 8, 13, 24, 40]))
def test_table_cells_of_hostile_tasks_are_inert_and_exactly_as_wide_as_their_column(fields, width: int) -> None:
    from rich.cells import cell_len

    from tasktui.ui.widgets.task_table import COLUMNS, fit

    doc = {**fields, "task_id": fields["task_id"] or "t", "status": fields["status"] or "s",
           "created_at": "2026-11-01T00:00:00.000Z", "customer_review_status": fields["status"]}
    task = Task.from_wire(doc)
    table = _table()
    for col in COLUMNS:
        text, _style = table.cell_text(task, col.key)
        assert_inert(text)
        assert "\n" not in text and "\t" not in text
        out = fit(text, width)
        assert_inert(out)
        assert cell_len(out) == width  # a hostile value cannot push the next column
    for key in ("task_id", "project", "batch", "type"):
        shown = table.cell_text(task, key)[0]
        raw = doc[key]
        if not TERMINAL_CONTROL_RE.search(raw) and not any(c in BIDI + SEPARATORS for c in raw) and "\r" not in raw:
            assert shown == raw.replace("\n", " ").replace("\t", " ")  # markup stays literal


# the detail screen's pure renderers ---------------------------------------------------

@FAST
@given(json_values(), json_values())
def test_response_diff_of_hostile_responses_is_inert(before, after) -> None:
    from tasktui.ui.screens.detail_tabs import response_diff

    t = response_diff(before, after)
    assert_inert(t.plain.replace("\n", ""))
    assert_inert(SGR_RE.sub("", render(t)).replace("\n", ""))


@FAST
@given(st.lists(st.fixed_dictionaries({"label": hostile_text(6), "left": st.integers(0, 50), "top": st.integers(0, 50),
                                       "width": st.integers(1, 20), "height": st.integers(1, 20),
                                       "position": st.just({"x": 1, "y": 2, "z": 0}),
                                       "dimensions": st.just({"x": 2, "y": 1, "z": 1})}), max_size=5))
def test_annotation_legends_of_hostile_labels_are_inert(annotations) -> None:
    from tasktui.ui.widgets.preview import _legend_text, annotation_legend, plan_cuboids

    response = {"annotations": annotations}
    legend = _legend_text(annotation_legend(response))
    assert_inert(legend.plain)
    assert_inert(SGR_RE.sub("", render(legend)).replace("\n", ""))
    for label, *_ in plan_cuboids(response)[0]:
        assert_inert(label)


# issue 13 item 4: U+2028 / U+2029 are line breaks to many viewers (Python's splitlines,
# Textual's TextArea): JSON shown on screen or put in an editor writes them as escapes
@FAST
@given(json_values(hostile_text(6).map(lambda s: s + "\u2028x\u2029")))
def test_pretty_json_escapes_line_and_paragraph_separators(v) -> None:
    out = pretty_json(v)
    assert "\u2028" not in out and "\u2029" not in out
    assert len(out.splitlines()) == out.count("\n") + 1
    assert json.loads(out) == v


def test_clean_shows_separators_instead_of_breaking_lines() -> None:
    assert clean("a\u2028b\u2029c") == "a⟨U+2028⟩b⟨U+2029⟩c"
    assert one_line("a\u2028b") == "a⟨U+2028⟩b"
