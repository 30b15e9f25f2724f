"""Sentences an operator reads, checked as literals (issue 13 item 18, issue 14): no
doubled prefixes, no parser jargon cut mid-phrase, plurals that agree."""

from __future__ import annotations

from tasktui.ui.modals.fix_editor import validate_response_json
from tasktui.ui.screens.export import match_words

from .support import DetailHost, screen_text, wait_for


def test_the_export_estimate_agrees_in_number_and_says_when_it_is_a_lower_bound():
    assert match_words(1, True) == "1 task matches now."
    assert match_words(12_345, True) == "12,345 tasks match now."
    assert match_words(1_200, False) == "At least 1,200 tasks match so far."


def test_a_raw_tab_in_a_fix_is_explained_not_cut_mid_phrase():
    _, error, where = validate_response_json('{"a": "x\ty"}')
    assert error == ("Line 1, column 9: a control character (a raw tab or line break) inside a string: "
                     "write it as \\t or \\n")
    assert where == (1, 9)


async def test_an_unknown_task_is_named_once(shared_server):
    tid = "6b0000000000000000000000"
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for(pilot, lambda: "not found" in screen_text(app) and screen_text(app))
    assert f"Could not get task {tid}" in text
    assert text.count("Could not") == 1  # it read "Could not load task X: Could not get task X: ..."
