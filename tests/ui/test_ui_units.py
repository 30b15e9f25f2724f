"""Unit tests of the UI's pure parts: the detail tabs' renderers, the one status look,
the keymap check over the explicit remappable() list. No app, no server."""

from __future__ import annotations


from rich.console import Console
from rich.style import Style

from tasktui.domain import AuditStatus, OperatorStatus, Task, Zone
from tasktui.ui.app import remappable
from tasktui.ui.keymap import check_keymap, declared_bindings
from tasktui.ui.screens.detail_tabs import render_audit, render_header, render_response, render_summary
from tasktui.ui.widgets.status import AUDIT_LOOK, STATUS_LOOK, audit_label_style, status_cell, status_word


def plain(renderable) -> str:
    console = Console(width=160, color_system=None, record=True)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def task(**fields) -> Task:
    raw = {"task_id": "t-1", "status": "completed", "type": "imageannotation", "project": "Street",
           "created_at": "2026-11-20T12:00:00.000Z", "params": {}}
    raw.update(fields)
    return Task(raw)


def test_the_detail_colours_a_status_as_the_table_does():
    for wire, expected, shown in (("completed", OperatorStatus.COMPLETED, "Completed"),
                                  ("pending", OperatorStatus.QUEUED, "Queued"),
                                  ("error", OperatorStatus.ERROR, "Error"),
                                  ("canceled", OperatorStatus.CANCELED, "Canceled")):
        t = task(status=wire)
        assert t.operator_status is expected
        word = status_word(t)
        assert word.plain == shown  # a literal, not the label of the mapping under test
        assert word.style.color == status_cell(t)[1].color == STATUS_LOOK[expected][1].color
        assert word.style.bold


def test_ready_to_audit_is_yellow_and_fixed_cyan_everywhere():
    assert audit_label_style("Ready to Audit").color.name == "yellow"
    assert audit_label_style("Fixed").color.name == "cyan"
    for a in AuditStatus:
        assert audit_label_style(a.label).color == AUDIT_LOOK[a][1].color
    assert audit_label_style("Audit") == "bold"  # not an audit status: the default


def test_an_unknown_status_word_is_plain_bold_data():
    word = status_word(task(status="\x1b[31mweird"))
    assert "\x1b" not in word.plain
    assert word.style == Style(bold=True)


def test_the_summary_shows_dates_in_the_zone_asked_for():
    t = task()
    for zone, shown in ((Zone.UTC, "2026-11-20 12:00:00 UTC"), (Zone.PACIFIC, "2026-11-20 04:00:00 PST")):
        text = plain(render_summary(t, zone))
        assert f"Created ({zone.label})" in text
        assert shown in text  # literals, not the formatter under test
        assert "t-1" in text


def test_the_header_names_the_position_and_read_only():
    text = plain(render_header(task(), read_only=True, position="3 of 9"))
    assert "Task t-1" in text and "Completed" in text
    assert "read-only" in text and "3 of 9" in text
    assert "read-only" not in plain(render_header(task(), read_only=False, position=""))


def test_the_response_tab_leads_with_the_fix_diff():
    fixed = task(response={"label": "car"}, prior_responses=[{"label": "truck"}])
    text = plain(render_response(fixed))
    assert text.index("What the fix changed") < text.index("Current response")
    assert '-  "label": "truck"' in text and '+  "label": "car"' in text
    unanswered = plain(render_response(task(status="pending")))
    assert "No response yet: the task is Queued." in unanswered
    assert "What the fix changed" not in unanswered


def test_the_audit_history_says_when_there_is_none():
    text = plain(render_audit(task(), Zone.UTC))
    assert "No audits yet." in text and "No review comments." in text
    audited = task(audits=[{"accepted": False, "comments": "boxes loose", "audited_by": "ana"}])
    text = plain(render_audit(audited, Zone.UTC))
    assert "1. Rejected  by ana" in text and "boxes loose" in text


def test_every_remappable_id_is_known_without_importing_anything_else():
    known = declared_bindings(remappable())
    for bid in ("app.quit", "tasks.refresh", "table.mark", "detail.accept", "fix.submit",
                "export.start", "help.close", "dialog.yes", "prompt.cancel", "dialog.copy_failures"):
        assert bid in known
    assert check_keymap({"detail.accept": "A", "tasks.refresh": "ctrl+r"}, remappable()) == []
    (warning,) = check_keymap({"no.such.id": "x"}, remappable())
    assert "'no.such.id'" in warning and "detail.accept" in warning


def test_the_app_module_does_not_import_what_the_first_screen_does_not_use():
    """Start-up time: the detail screen, its previews and their image / plot libraries are
    imported when first opened, not with the app."""
    import subprocess
    import sys

    heavy = ("PIL", "numpy", "textual_image", "textual_plot", "markdown_it",
             "tasktui.ui.screens.detail", "tasktui.ui.widgets.preview", "tasktui.ui.screens.export",
             "tasktui.ui.modals.fix_editor")
    code = ("import sys, tasktui.ui.app; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_toggle_glyphs_differ_on_and_off():
    from tasktui.ui.widgets.toggles import check_glyph, radio_glyph

    assert (check_glyph(True), check_glyph(False)) == ("[x]", "[ ]")
    assert (radio_glyph(True), radio_glyph(False)) == ("(•)", "( )")


def test_columns_show_the_filtered_date_and_readable_project_and_batch():
    from tasktui.ui.widgets.task_table import COMFORTABLE, layout_columns

    def keys(width, date_column="created"):
        return {c.key: w for c, w in layout_columns(width, date_column=date_column)}

    assert "completed" not in keys(86) and "created" in keys(86)
    assert "completed" in keys(86, "completed") and "created" not in keys(86, "completed")
    wide = keys(118)  # 120 columns, sidebar hidden
    assert wide["project"] >= COMFORTABLE and wide["batch"] >= COMFORTABLE
    assert all(w >= COMFORTABLE for k, w in wide.items() if k in ("project", "batch", "type"))
    assert "project" in keys(86)  # the last of them stays, narrower
