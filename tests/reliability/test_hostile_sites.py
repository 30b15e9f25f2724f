"""Two rendering sites the hostile-text suites did not reach (issue 15): the bulk
summary's task ids and failure reasons, and a text attachment's body in the Preview.
Each is checked after it has rendered (its state or its text is awaited first), on the
bytes Textual would send to the terminal: no control character but Textual's own drawing,
and markup shown as the literal text it is."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tasktui.api import Attachment
from tasktui.domain import Task
from tasktui.store import BulkResult
from tasktui.ui.modals.bulk import BulkSummary
from tasktui.ui.widgets.preview import MediaPreview

from ui.support import wait_for

from .hostile import HOSTILE
from .screen import foreign_controls, screen_text

HOSTILE_ID = "[bold]6430a6f1[/bold]\x1b[2J\u202e"


class SummaryHost(App):
    def __init__(self, result: BulkResult) -> None:
        super().__init__()
        self.result = result

    def on_mount(self) -> None:
        self.push_screen(BulkSummary(self.result))


async def test_the_bulk_summary_shows_hostile_ids_and_reasons_as_data():
    result = BulkResult("cancel", requested=3, succeeded=["ok1"],
                        failed={HOSTILE_ID: f"the server said {HOSTILE}"},
                        skipped={"[red]s2[/red]\x9b": f"is {HOSTILE}"})
    app = SummaryHost(result)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, BulkSummary) and "Failed:" in screen_text(app),
                       what="the summary drawn")
        text = screen_text(app)
        assert "Failed:" in text and "Skipped:" in text
        assert "[bold]6430a6f1[/bold]" in text  # markup in an id is shown, not applied
        assert "[bold red]HOSTILE[/]" in text and "[red]s2[/red]" in text
        assert foreign_controls(app) == []


class PreviewHost(App):
    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        yield MediaPreview(self.fetch, id="media-preview")

    async def fetch(self, url: str) -> Attachment:
        return Attachment(url=url, content=self.body, content_type="text/plain; charset=utf-8")

    def on_mount(self) -> None:
        task = Task({"task_id": "t1", "status": "pending", "type": "categorization",
                     "params": {"attachment": "https://example.invalid/a.txt", "attachment_type": "text"}})
        self.query_one(MediaPreview).show(task)


async def test_a_text_attachments_hostile_body_is_shown_as_data():
    body = f"line one {HOSTILE}\nline two [link=https://evil.example]x[/link]\x1b[?1049h\n".encode()
    app = PreviewHost(body)
    async with app.run_test(size=(140, 40)) as pilot:
        preview = app.query_one(MediaPreview)
        await wait_for(pilot, lambda: preview.state == "text" and "line two" in screen_text(app),
                       what=f"the text preview drawn (state {preview.state}: {preview.message})")
        assert preview.state == "text", preview.message
        text = screen_text(app)
        assert "[bold red]HOSTILE[/]" in text and "[link=https://evil.example]x[/link]" in text
        assert foreign_controls(app) == []
