"""Issue 13 item 3: huge text (Markdown instructions, responses, metadata, comments) is
rendered within a bound, says what was cut and where the whole is, and never freezes
the detail screen."""

from __future__ import annotations

import io
import time

from rich.console import Console
from textual.widgets import Markdown

from tasktui.domain import Task, Zone
from tasktui.ui.screens import detail_tabs
from tasktui.ui.screens.detail_tabs import render_audit, render_instructions, render_response, render_summary
from tasktui.ui.widgets.json_view import MAX_JSON_VIEW_CHARS

from .support import DetailHost, find_task, screen_text, set_doc_field, wait_for, wait_loaded

MB = 1_000_000
MARKDOWN = "# Labeling guide\n\nLabel every *car* you see. See [the guide](https://x.invalid).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"


def _markdown(size: int) -> str:
    return (MARKDOWN * (size // len(MARKDOWN) + 1))[:size]


def _huge_task(size: int = MB) -> Task:
    text = _markdown(size)
    return Task.from_wire({
        "task_id": "t1", "status": "completed", "type": "imageannotation", "created_at": "2026-01-01T00:00:00Z",
        "instruction": text, "metadata": {"blob": text, "list": list(range(size // 10))},
        "response": {"annotations": [{"label": "x" * 50, "left": i} for i in range(size // 60)]},
        "prior_responses": [{"annotations": [{"label": "y" * 50, "left": i} for i in range(size // 60)]}],
        "audits": [{"comments": text, "extra": text}],
        "customer_review_comments": [text],
        "free_text_field": text,
    })


def _print(renderable) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(renderable)
    return buf.getvalue()


def test_every_tab_renders_a_megabyte_task_within_a_bound_and_says_what_was_cut():
    task = _huge_task()
    for name, render in [("summary", lambda: render_summary(task, Zone.PACIFIC)),
                         ("response", lambda: render_response(task)),
                         ("audit", lambda: render_audit(task, Zone.UTC)),
                         ("instructions", lambda: render_instructions(task))]:
        out = render()
        text = out if isinstance(out, str) else _print(out)
        assert len(text) < 400_000, (name, len(text))  # bounded work: what is rendered is bounded
        assert "cut" in text and "JSON tab" in text, name


def test_instructions_are_cut_at_a_line_and_say_so():
    small = "# Guide\n\n" + "Label every car you see, and nothing else.\n" * 50
    assert render_instructions(Task.from_wire({"task_id": "t", "status": "pending", "instruction": small})) == small
    big = _markdown(200_000)
    md = render_instructions(Task.from_wire({"task_id": "t", "status": "pending", "instruction": big}))
    note, rest = md.split("\n\n", 1)
    shown, end = rest.rsplit("\n\n---\n\n", 1)
    assert len(shown) <= detail_tabs.MAX_MARKDOWN_CHARS and big.startswith(shown) and shown.endswith("\n")
    assert len(shown) > 500
    # the widget's cost is in its blocks (a table costs ten paragraphs): what is kept is bounded in both
    assert shown.count("|---|") <= detail_tabs.MAX_MARKDOWN_COST // 10
    assert note.startswith("> The instructions are cut here: the first ")
    assert f"of 200,000 characters" in note and "JSON tab (3)" in note
    assert end == "*The instructions are cut here (see the note at the top).*"


def test_a_diff_of_huge_responses_is_not_computed():
    task = _huge_task(300_000)
    started = time.process_time()
    text = _print(render_response(task))
    assert time.process_time() - started < 2
    assert "too large to compare here" in text


async def test_a_megabyte_of_markdown_and_metadata_keeps_the_screen_answering(server, sql):
    tid = find_task(sql, server, "ostatus = 'completed' AND type = 'imageannotation'")
    set_doc_field(server, tid, "instruction", _markdown(MB))
    set_doc_field(server, tid, "metadata", {"blob": "m" * MB})
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        detail = await wait_loaded(pilot, app, tid)
        await pilot.press("2")
        await wait_for(pilot, lambda: "The instructions are cut here" in screen_text(app), what="the cut note")
        md = detail.query_one("#instructions-md", Markdown)
        assert len(md.source) < detail_tabs.MAX_MARKDOWN_CHARS + 1_000
        await pilot.press("3")
        await wait_for(pilot, lambda: "JSON cut:" in screen_text(app), what="the JSON view's cut note")
        assert len(detail.json_view.text_area.text) <= MAX_JSON_VIEW_CHARS
        assert "d saves the whole task" in screen_text(app)
        await pilot.press("1")
        await wait_for(pilot, lambda: "Labeling guide" in screen_text(app), what="the summary")


def test_a_huge_text_attachment_is_previewed_in_part_and_says_so():
    from tasktui.ui.widgets.preview import MAX_TEXT_BYTES, text_preview

    text, note = text_preview(b"hello\x1b[31m\n")
    assert (text, note) == ("hello␛[31m\n", "")
    data = ("line of text\u2028\n" * 200_000).encode()
    text, note = text_preview(data)
    assert MAX_TEXT_BYTES <= 100_000 and text.count("\n") == MAX_TEXT_BYTES // 16  # 16 bytes a line
    assert "\u2028" not in text and "line of text⟨U+2028⟩" in text
    assert note == f" (the first {MAX_TEXT_BYTES:,} of {len(data):,} bytes; u copies the URL of the whole)"
    text, _note = text_preview("é".encode() * MAX_TEXT_BYTES)  # cut inside a character: no replacement mark
    assert "\ufffd" not in text
