"""The task detail screen: everything about one task, and the actions on it.

Construct and push it from the Tasks screen::

    from tasktui.ui.detail import TaskDetailScreen
    app.push_screen(TaskDetailScreen(
        store, task_id,
        task_ids=lambda: [t.task_id for t in store.rows],  # or a list: n / p order
        read_only=settings.read_only,
        downloads_dir=settings.downloads_dir,
    ))

``store`` is the shared :class:`~tasktui.store.TaskStore` (``get_task``, ``accept``,
``reject``, ``fix``, ``cancel``, ``fetch_attachment`` and its ``query``, ``zone``,
``rows``, ``load_more``). ``task_ids`` gives the list's order for ``n`` / ``p``
(a callable is re-read at each step so it follows the live list). Optional:
``tab`` (the tab to open on), ``audit_queue`` (True / False / None = automatic:
on when the list is filtered to Ready to Audit only).

Tabs (keys ``1``–``6``): Summary, Instructions (Markdown; links are shown, never
opened), JSON (read-only highlighted editor; ``/`` finds, ``n`` / ``N`` next /
previous match while a search is active, ``esc`` clears it), Response (current,
prior responses, and the diff of the fix), Audit history, Preview (media).

Keys (binding ids in brackets, remappable in the config's ``[keymap]``):
``a`` accept [detail.accept], ``x`` reject with a comment [detail.reject], ``e`` fix in
the JSON editor [detail.fix], ``E`` fix in ``$EDITOR`` [detail.fix_external], ``c`` cancel
[detail.cancel], ``d`` download JSON [detail.download], ``y`` copy task id
[detail.copy_id], ``Y`` copy JSON [detail.copy_json], ``u`` copy attachment URL
[detail.copy_url], ``n`` / ``p`` next / previous task [detail.next / detail.prev],
``R`` re-fetch [detail.refresh], ``esc`` back [detail.back].

Read-only mode hides accept / reject / fix / cancel and refuses their keys with a message.

Import this module before ``App.run`` (it imports textual-image, which queries the
terminal's graphics support at import time).
"""

from __future__ import annotations

import asyncio
import difflib
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Key
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown, Static, TabbedContent, TabPane, TextArea

from tasktui.api import ApiError, Attachment
from tasktui.domain import AuditStatus, Task, Zone, format_instant, parse_wire_time
from tasktui.store import TaskStore
from tasktui.downloads import DownloadError, download_task, task_json
from tasktui.ui.clipboard import copy_text
from tasktui.ui.dialogs import ConfirmDialog, FixEditor, RejectDialog, edit_in_external_editor, validate_response_json
from tasktui.ui.preview import MediaPreview
from tasktui.ui.safe import clean, one_line, pretty_json

__all__ = ["TABS", "TaskDetailScreen", "response_diff"]

TABS = ("summary", "instructions", "json", "response", "audit", "preview")
TAB_TITLES = {
    "summary": "1 Summary", "instructions": "2 Instructions", "json": "3 JSON",
    "response": "4 Response", "audit": "5 Audit history", "preview": "6 Preview",
}
#: actions that change a task (removed in read-only mode)
MUTATING = frozenset({"accept", "reject", "fix", "fix_external", "cancel"})

_STATUS_STYLE = {
    "Completed": "bold green", "In Progress": "bold yellow", "Queued": "bold cyan",
    "Error": "bold red", "Canceled": "bold bright_black", "Redo": "bold magenta",
}
_AUDIT_STYLE = {
    "Ready to Audit": "bold cyan", "Accepted": "bold green", "Fixed": "bold yellow", "Rejected": "bold red",
}


_AUDIT_TIME_KEYS = ("audited_at", "audit_time", "created_at", "time", "timestamp")
_AUDIT_SHOWN_KEYS = frozenset({
    *_AUDIT_TIME_KEYS, "accepted", "audit_result", "action", "result", "audited_by", "auditor", "user",
    "email", "by", "comments", "comment", "fixed", "audit_time_secs", "audit_source"})


def _default_downloads_dir() -> Path:
    try:
        from tasktui.config import default_downloads_dir

        return default_downloads_dir()
    except Exception:
        return Path.home() / "Downloads"


def response_diff(before: Any, after: Any) -> Text:
    """A coloured unified diff of two responses as pretty JSON."""
    a = pretty_json(before).splitlines()
    b = pretty_json(after).splitlines()
    out = Text()
    lines = list(difflib.unified_diff(a, b, "prior response", "current response", lineterm="", n=3))
    if not lines:
        out.append("No difference: the current response equals the prior one.", style="dim")
        return out
    for line in lines:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append(clean(line, multiline=False) + "\n", style=style)
    out.rstrip()
    return out


def _json_block(value: Any) -> Syntax:
    return Syntax(pretty_json(value), "json", theme="ansi_dark", word_wrap=True, background_color="default")


class TaskDetailScreen(Screen):
    """Everything about one task; the actions on it."""

    DEFAULT_CSS = """
    TaskDetailScreen {
        layout: vertical;
    }
    TaskDetailScreen #detail-header {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
    }
    TaskDetailScreen #detail-notice {
        height: auto;
        padding: 0 1;
        display: none;
    }
    TaskDetailScreen #detail-notice.error {
        display: block;
        color: $text-error;
        background: $error-muted;
    }
    TaskDetailScreen TabbedContent {
        height: 1fr;
    }
    TaskDetailScreen TabPane {
        padding: 0 1;
    }
    TaskDetailScreen #json-find-bar {
        height: auto;
        display: none;
    }
    TaskDetailScreen #json-find-bar.visible {
        display: block;
    }
    TaskDetailScreen #json-find {
        width: 1fr;
    }
    TaskDetailScreen #json-find-status {
        width: auto;
        padding: 1 1 0 1;
        color: $text-muted;
    }
    TaskDetailScreen #json-text {
        height: 1fr;
    }
    TaskDetailScreen .section-title {
        text-style: bold;
        margin-top: 1;
    }
    """

    BINDINGS = [
        # priority: the JSON view would otherwise take esc to give up focus
        Binding("escape", "back", "Back", id="detail.back", priority=True),
        Binding("n", "next_task", "Next", id="detail.next"),
        Binding("p", "prev_task", "Prev", id="detail.prev"),
        Binding("a", "accept", "Accept", id="detail.accept"),
        Binding("x", "reject", "Reject", id="detail.reject"),
        Binding("e", "fix", "Fix", id="detail.fix"),
        Binding("E", "fix_external", "Fix in $EDITOR", id="detail.fix_external", show=False),
        Binding("c", "cancel_task", "Cancel", id="detail.cancel"),
        Binding("d", "download", "Download", id="detail.download"),
        Binding("y", "copy_id", "Copy id", id="detail.copy_id"),
        Binding("Y", "copy_json", "Copy JSON", id="detail.copy_json", show=False),
        Binding("u", "copy_url", "Copy URL", id="detail.copy_url", show=False),
        Binding("N", "find_prev", "Prev match", id="detail.find_prev", show=False),
        Binding("slash", "find", "Find", id="detail.find", show=False),
        Binding("R", "reload", "Re-fetch", id="detail.refresh", show=False),
        Binding("1", "tab('summary')", "Summary", id="detail.tab.summary", show=False),
        Binding("2", "tab('instructions')", "Instructions", id="detail.tab.instructions", show=False),
        Binding("3", "tab('json')", "JSON", id="detail.tab.json", show=False),
        Binding("4", "tab('response')", "Response", id="detail.tab.response", show=False),
        Binding("5", "tab('audit')", "Audit history", id="detail.tab.audit", show=False),
        Binding("6", "tab('preview')", "Preview", id="detail.tab.preview", show=False),
    ]

    _ACTION_OF = {"accept": "accept", "reject": "reject", "fix": "fix", "fix_external": "fix_external",
                  "cancel_task": "cancel"}

    def __init__(
        self,
        store: TaskStore,
        task_id: str,
        *,
        task_ids: Sequence[str] | Callable[[], Sequence[str]] | None = None,
        read_only: bool = False,
        downloads_dir: str | os.PathLike[str] | None = None,
        tab: str = "summary",
        audit_queue: bool | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.store = store
        self.task_id = task_id
        self.shown_task: Task | None = None
        self._task_ids = task_ids
        self.read_only = read_only
        self.downloads_dir = Path(downloads_dir).expanduser() if downloads_dir else _default_downloads_dir()
        self._initial_tab = tab if tab in TABS else "summary"
        self._audit_queue = audit_queue
        self._busy: str | None = None
        self._last_index: int | None = None
        self._find_term = ""
        self._load_generation = 0
        self._rendered: set[str] = set()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Static(Text(f"Task {one_line(self.task_id, 80)} — loading…"), id="detail-header")
        yield Static("", id="detail-notice")
        with TabbedContent(initial=self._initial_tab, id="detail-tabs"):
            with TabPane(TAB_TITLES["summary"], id="summary"):
                with VerticalScroll():
                    yield Static("", id="summary-body")
            with TabPane(TAB_TITLES["instructions"], id="instructions"):
                with VerticalScroll():
                    yield Markdown("", id="instructions-md", open_links=False)
            with TabPane(TAB_TITLES["json"], id="json"):
                with Vertical():
                    with Horizontal(id="json-find-bar"):
                        yield Input(placeholder="find in JSON (enter: next, esc: close)", id="json-find")
                        yield Static("", id="json-find-status")
                    yield TextArea("", language="json", read_only=True, id="json-text",
                                   show_line_numbers=True, soft_wrap=False, theme="monokai")
            with TabPane(TAB_TITLES["response"], id="response"):
                with VerticalScroll():
                    yield Static("", id="response-body")
            with TabPane(TAB_TITLES["audit"], id="audit"):
                with VerticalScroll():
                    yield Static("", id="audit-body")
            with TabPane(TAB_TITLES["preview"], id="preview"):
                yield MediaPreview(self._fetch_attachment, id="media-preview")
        yield Footer()

    def on_mount(self) -> None:
        self.load(self.task_id)

    # ------------------------------------------------------------------ data
    async def _fetch_attachment(self, url: str) -> Attachment:
        return await self.store.client.fetch_attachment(url)

    @property
    def zone(self) -> Zone:
        return self.store.zone

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def load(self, task_id: str) -> None:
        """Show ``task_id`` (fetched from the store), keeping the current tab."""
        self.task_id = task_id
        self._load_generation += 1
        self._fetch(task_id, self._load_generation)

    @work(exclusive=True, group="detail-load")
    async def _fetch(self, task_id: str, generation: int) -> None:
        if self.shown_task is None or self.shown_task.task_id != task_id:
            self.query_one("#detail-header", Static).update(Text(f"Task {one_line(task_id, 80)} — loading…"))
        known = self.store.cached(task_id)
        if known is not None and generation == self._load_generation:
            self.show_task(known)  # at once, then the fresh copy
        try:
            task = await self.store.get_task(task_id, refresh=True)
        except Exception as e:
            if generation == self._load_generation:
                self._notice(f"Could not load task {one_line(task_id, 60)}: {clean(str(e))} (R retries)")
            return
        if generation == self._load_generation:
            self.show_task(task)

    def show_task(self, task: Task) -> None:
        """Show ``task``: the header and the active tab now, the other tabs when they
        are opened (so that n / p stay quick on big tasks)."""
        self.shown_task = task
        self.task_id = task.task_id
        self._rendered: set[str] = set()
        self._notice("")
        self._render_header()
        self._render_tab(self.active_tab)
        self.refresh_bindings()

    def _render_tab(self, tab: str) -> None:
        task = self.shown_task
        if task is None or tab in self._rendered:
            return
        self._rendered.add(tab)
        if tab == "summary":
            self._render_summary()
        elif tab == "instructions":
            self.query_one("#instructions-md", Markdown).update(
                clean(task.instruction) or "*This task has no instructions.*")
        elif tab == "json":
            self.query_one("#json-text", TextArea).load_text(pretty_json(task.raw))
            if self._find_term:
                self._find(self._find_term, forward=True, from_start=True)
        elif tab == "response":
            self._render_response()
        elif tab == "audit":
            self._render_audit()
        elif tab == "preview":
            self.query_one(MediaPreview).show(task)

    def _notice(self, message: str) -> None:
        n = self.query_one("#detail-notice", Static)
        n.update(Text(message))
        n.set_class(bool(message), "error")

    def _position(self) -> str:
        ids = self._ids()
        if self.task_id not in ids:
            return ""
        i = ids.index(self.task_id)
        offset = self.store.offset if self._task_ids is None or callable(self._task_ids) else 0
        total = self.store.total
        n = total if total is not None and total >= len(ids) else len(ids)
        return f"{offset + i + 1:,} of {n:,}"

    def _render_header(self) -> None:
        t = self.shown_task
        if t is None:
            return
        h = Text()
        h.append("Task ", style="bold")
        h.append(one_line(t.task_id, 60), style="bold")
        h.append("  ")
        h.append(one_line(t.status_label), style=_STATUS_STYLE.get(t.status_label, "bold"))
        if t.audit_label:
            h.append("  ·  ")
            h.append(t.audit_label, style=_AUDIT_STYLE.get(t.audit_label, "bold"))
        if self.read_only:
            h.append("  read-only", style="bold yellow")
        h.append("\n")
        h.append(f"{one_line(t.project or '(no project)', 40)}  ·  {one_line(t.type or '(no type)', 30)}")
        if t.batch:
            h.append(f"  ·  {one_line(t.batch, 40)}")
        pos = self._position()
        if pos:
            h.append(f"  ·  {pos}", style="dim")
        self.query_one("#detail-header", Static).update(h)

    def _time(self, key: str) -> Text:
        raw = self.shown_task.raw.get(key) if self.shown_task else None
        dt = parse_wire_time(raw) if isinstance(raw, str) else None
        if dt is None:
            return Text("—" if raw in (None, "") else one_line(raw, 60), style="dim")
        return Text(format_instant(dt, self.zone, seconds=True, abbrev=True))

    def _render_summary(self) -> None:
        t = self.shown_task
        assert t is not None
        raw = t.raw
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")

        def row(label: str, value: Any) -> None:
            if isinstance(value, Text):
                table.add_row(Text(label), value)
            elif value is None or value == "" or value == [] or value == {}:
                table.add_row(Text(label), Text("—", style="dim"))
            elif isinstance(value, (dict, list)):
                table.add_row(Text(label), Text(pretty_json(value)))
            else:
                table.add_row(Text(label), Text(clean(value)))

        row("Task ID", t.task_id)
        row("Status", Text(one_line(t.status_label), style=_STATUS_STYLE.get(t.status_label, "bold"))
            + Text(f"  (wire: {one_line(t.status, 30)}"
                   + (", work started" if t.work_started else "") + ")", style="dim"))
        row("Audit status", Text(t.audit_label or "—", style=_AUDIT_STYLE.get(t.audit_label, "dim"))
            + (Text(f"  (wire: {one_line(t.customer_review_status, 30)})", style="dim")
               if t.customer_review_status else Text("")))
        row("Type", t.type)
        row("Project", t.project)
        row("Batch", t.batch)
        row("Unique ID", t.unique_id)
        row(f"Created ({self.zone.label})", self._time("created_at"))
        row(f"Updated ({self.zone.label})", self._time("updated_at"))
        row(f"Completed ({self.zone.label})", self._time("completed_at"))
        row("Tags", ", ".join(clean(x, multiline=False) for x in t.tags))
        row("Attachment", t.attachment)
        row("Attachment type", t.attachment_type)
        row("Callback URL", raw.get("callback_url"))
        if t.error_message:
            row("Error", Text(clean(t.error_message), style="red"))
        row("Instruction", Text(one_line(t.instruction, 200) or "—",
                                style="" if t.instruction else "dim") + Text("  (tab 2)", style="dim"))
        other_params = {k: v for k, v in t.params.items() if k not in ("attachment", "attachment_type")}
        if other_params:
            row("Params", other_params)
        row("Metadata", t.metadata)
        row("Response", Text("(tab 4)", style="dim") if raw.get("response") is not None else None)
        row("Prior responses", Text(f"{len(t.prior_responses)} (tab 4)") if t.prior_responses else None)
        row("Audits", Text(f"{len(t.audits)} (tab 5)") if t.audits else None)
        row("Review comments", Text(f"{len(t.customer_review_comments)} (tab 5)")
            if t.customer_review_comments else None)
        shown = {"task_id", "status", "customer_review_status", "type", "project", "batch", "unique_id",
                 "created_at", "updated_at", "completed_at", "tags", "params", "callback_url", "error",
                 "instruction", "metadata", "response", "prior_responses", "audits", "work_started",
                 "customer_review_comments"}
        for key in raw:
            if key not in shown:
                value = raw[key]
                if isinstance(value, str) and key.endswith(("_at", "_time")) and parse_wire_time(value):
                    row(clean(key, multiline=False), self._time(key))
                else:
                    row(clean(key, multiline=False), value if isinstance(value, (dict, list)) else clean(value))
        self.query_one("#summary-body", Static).update(table)

    def _render_response(self) -> None:
        t = self.shown_task
        assert t is not None
        parts: list[Any] = []
        priors = t.prior_responses
        if priors and "response" in t.raw:
            # what the operator wants first after a fix: what it changed
            parts.append(Text("What the fix changed (latest prior → current)", style="bold underline"))
            parts.append(response_diff(priors[-1], t.response))
            parts.append(Text(""))
        parts.append(Text("Current response", style="bold underline"))
        if "response" in t.raw:
            parts.append(_json_block(t.response))
        else:
            parts.append(Text("No response yet: the task is " + one_line(t.status_label) + ".", style="dim"))
        parts.append(Text(""))
        parts.append(Text(f"Prior responses ({len(priors)})", style="bold underline"))
        if not priors:
            parts.append(Text("None: the response has never been fixed.", style="dim"))
        for i, prior in enumerate(reversed(priors)):
            n = len(priors) - i
            parts.append(Text(f"#{n}" + (" (latest)" if i == 0 else ""), style="bold"))
            parts.append(_json_block(prior))
        self.query_one("#response-body", Static).update(Group(*parts))

    def _render_audit(self) -> None:
        t = self.shown_task
        assert t is not None
        parts: list[Any] = [Text("Audits", style="bold underline")]
        audits = t.audits
        if not audits:
            parts.append(Text("No audits yet.", style="dim"))
        for i, a in enumerate(audits, 1):
            line = Text(f"{i}. ")
            when = next((a.get(k) for k in _AUDIT_TIME_KEYS if a.get(k)), None)
            dt = parse_wire_time(when) if isinstance(when, str) else None
            if dt:
                line.append(format_instant(dt, self.zone, seconds=True, abbrev=True))
                line.append("  ")
            accepted = a.get("accepted")
            kind = a.get("audit_result") or a.get("action") or a.get("result")
            if isinstance(kind, str) and kind:
                verdict = kind.capitalize()
            elif accepted is True:
                verdict = "Fixed" if a.get("fixed") or a.get("response") else "Accepted"
            elif accepted is False:
                verdict = "Rejected"
            else:
                verdict = "Audit"
            line.append(clean(verdict, multiline=False),
                        style=_AUDIT_STYLE.get(verdict.capitalize(), "bold"))
            who = next((a.get(k) for k in ("audited_by", "auditor", "user", "email", "by") if a.get(k)), None)
            if who:
                line.append(f"  by {one_line(who, 60)}")
            secs = a.get("audit_time_secs")
            if isinstance(secs, (int, float)) and not isinstance(secs, bool):
                line.append(f"  · took {int(secs) // 60} min {int(secs) % 60} s", style="dim")
            source = a.get("audit_source")
            if source:
                line.append(f"  · {one_line(source, 30)}", style="dim")
            parts.append(line)
            comments = a.get("comments") or a.get("comment")
            if comments:
                parts.append(Text("   " + clean(comments if isinstance(comments, str) else pretty_json(comments))))
            extra = {k: v for k, v in a.items() if k not in _AUDIT_SHOWN_KEYS}
            if extra:
                parts.append(Text("   " + pretty_json(extra).replace("\n", "\n   "), style="dim"))
        parts.append(Text(""))
        parts.append(Text("Customer review", style="bold underline"))
        parts.append(Text("Status: ") + Text(t.audit_label or (clean(t.customer_review_status) or "—"),
                                             style=_AUDIT_STYLE.get(t.audit_label, "")))
        comments = t.customer_review_comments
        if comments:
            parts.append(Text(f"Comments ({len(comments)}):"))
            for c in comments:
                parts.append(Text("  • " + clean(c).replace("\n", "\n    ")))
        else:
            parts.append(Text("No review comments.", style="dim"))
        self.query_one("#audit-body", Static).update(Group(*parts))

    # ------------------------------------------------------------------ tabs
    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._render_tab(event.pane.id)
        self.refresh_bindings()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(Markdown.LinkClicked)
    def _link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        self.notify(f"Links in task instructions are not opened: {one_line(event.href, 200)}",
                    severity="warning", markup=False)

    # ------------------------------------------------------------------ navigation
    def _ids(self) -> list[str]:
        src = self._task_ids
        if src is None:
            return [t.task_id for t in self.store.rows]
        try:
            return list(src() if callable(src) else src)
        except Exception:
            return []

    def _neighbour(self, step: int) -> str | None:
        ids = self._ids()
        if self.task_id in ids:
            i = ids.index(self.task_id)
            self._last_index = i
        elif self._last_index is not None:
            # the current task left the list (e.g. audited out of a filter): the
            # task now at its old place is the next one
            i = self._last_index - (1 if step > 0 else 0)
        else:
            return None
        j = i + step
        if 0 <= j < len(ids):
            self._last_index = j
            return ids[j]
        return None

    async def _more_rows(self) -> bool:
        """Ask the store for the next page of the list; True if rows were added."""
        before = len(self._ids())
        try:
            await self.store.load_more()
        except ApiError:
            return False
        return len(self._ids()) > before

    async def _go(self, step: int) -> bool:
        target = self._neighbour(step)
        if target is None and step > 0 and await self._more_rows():
            target = self._neighbour(step)
        if target is None:
            where = "last" if step > 0 else "first"
            self.notify(f"This is the {where} task of the list.", markup=False, timeout=3)
            return False
        self.load(target)
        return True

    async def action_next_task(self) -> None:
        if self._find_term and self.active_tab == "json":
            self._find(self._find_term, forward=True)
            return
        await self._go(+1)

    async def action_prev_task(self) -> None:
        await self._go(-1)

    def action_back(self) -> None:
        if self._find_term or self.query_one("#json-find-bar").has_class("visible"):
            self._close_find()
            return
        self.dismiss(self.shown_task)

    def action_reload(self) -> None:
        self.load(self.task_id)

    # ------------------------------------------------------------------ JSON search
    def action_find(self) -> None:
        self.action_tab("json")
        bar = self.query_one("#json-find-bar")
        bar.add_class("visible")
        self.query_one("#json-find", Input).focus()

    def action_find_prev(self) -> None:
        if self._find_term:
            self._find(self._find_term, forward=False)

    def _close_find(self) -> None:
        self._find_term = ""
        self.query_one("#json-find-bar").remove_class("visible")
        self.query_one("#json-find", Input).value = ""
        self.query_one("#json-text", TextArea).focus()
        self.refresh_bindings()

    @on(Input.Changed, "#json-find")
    def _find_changed(self, event: Input.Changed) -> None:
        self._find_term = event.value
        if event.value:
            self._find(event.value, forward=True, from_start=True)
        else:
            self.query_one("#json-find-status", Static).update("")

    @on(Input.Submitted, "#json-find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self._find_term = event.value
            self._find(event.value, forward=True)
            self.query_one("#json-text", TextArea).focus()
            self.refresh_bindings()

    def _find(self, term: str, *, forward: bool, from_start: bool = False) -> bool:
        ta = self.query_one("#json-text", TextArea)
        status = self.query_one("#json-find-status", Static)
        text = ta.text
        low, needle = text.lower(), term.lower()
        count = low.count(needle) if needle else 0
        if not count:
            status.update(Text(f"no match for {one_line(term, 30)!r}", style="red"))
            return False
        doc = ta.document
        sel = ta.selection
        cur_start = doc.get_index_from_location(min(sel.start, sel.end))
        cur_end = doc.get_index_from_location(max(sel.start, sel.end))
        if from_start:
            idx = low.find(needle, cur_start)
            if idx < 0:
                idx = low.find(needle)
        elif forward:
            idx = low.find(needle, cur_end if cur_end > cur_start else cur_start + 1)
            if idx < 0:
                idx = low.find(needle)
        else:
            idx = low.rfind(needle, 0, cur_start)
            if idx < 0:
                idx = low.rfind(needle)
        start = doc.get_location_from_index(idx)
        end = doc.get_location_from_index(idx + len(needle))
        from textual.widgets.text_area import Selection

        ta.selection = Selection(start, end)
        ta.scroll_cursor_visible(center=True)
        nth = low.count(needle, 0, idx) + 1
        status.update(Text(f"{nth} of {count} · n next, N previous"))
        return True

    # ------------------------------------------------------------------ read-only & refusals
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        kind = self._ACTION_OF.get(action)
        if kind and self.read_only:
            return False
        if action == "find_prev":
            return bool(self._find_term)
        return True

    def on_key(self, event: Key) -> None:
        # In read-only mode the task-changing bindings are hidden and disabled; say why
        # when their key is pressed anyway.
        if not self.read_only:
            return
        focused = self.focused
        if isinstance(focused, Input) or (isinstance(focused, TextArea) and not focused.read_only):
            return
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            if binding.action in self._ACTION_OF:
                event.stop()
                event.prevent_default()
                self._refuse_read_only()
                return

    def _refuse_read_only(self) -> None:
        self.notify("Read-only mode: tasks cannot be accepted, rejected, fixed or canceled here "
                    "(start without --read-only, or set read_only = false in the config).",
                    severity="warning", markup=False)

    def _ready(self, kind: str) -> Task | None:
        """The task when ``kind`` may run on it now; otherwise say why and return None."""
        if kind in MUTATING and self.read_only:
            self._refuse_read_only()
            return None
        if self.shown_task is None:
            self.notify("The task is still loading.", markup=False, timeout=3)
            return None
        if self._busy and kind in MUTATING:
            self.notify(f"Still working: {self._busy}. Try again in a moment.", markup=False, timeout=3)
            return None
        if kind in ("accept", "reject", "fix", "fix_external"):
            ok, why = self.shown_task.can_audit()
            if not ok:
                self.notify(f"Cannot {kind.split('_')[0]}: {why}.", severity="warning", markup=False)
                return None
        if kind in ("fix", "fix_external") and not self._server_can_fix():
            self.notify("This server does not offer Fix (editing a task's response); only Accept and "
                        "Reject are available here.", severity="warning", markup=False)
            return None
        if kind == "cancel":
            ok, why = self.shown_task.can_cancel()
            if not ok:
                self.notify(f"Cannot cancel: {why}.", severity="warning", markup=False)
                return None
        return self.shown_task

    def _server_can_fix(self) -> bool:
        """False only when the backend is known not to offer the fix extension."""
        if not self.store.client.extensions_known:
            return True
        return self.store.can_fix

    def _in_audit_queue(self) -> bool:
        if self._audit_queue is not None:
            return self._audit_queue
        audits = self.store.query.audit_statuses
        return bool(audits) and set(audits) == {AuditStatus.READY_TO_AUDIT}

    # ------------------------------------------------------------------ actions
    async def _act(self, label: str, call: Callable[[], Any], done: str, *, queue: bool = False) -> bool:
        """Run a store action; on success show the re-fetched task (and move on in the
        audit queue); on failure say what went wrong. Returns success."""
        task = self.shown_task
        assert task is not None
        next_id = self._neighbour(+1) if queue else None
        self._busy = label
        self.query_one("#detail-header", Static).update(Text(f"{label}…", style="bold yellow"))
        try:
            result = await call()
        except Exception as e:
            self._busy = None
            self._render_header()
            self.notify(f"{label} failed: {clean(str(e) or type(e).__name__)}", severity="error",
                        markup=False, timeout=8)
            self.load(task.task_id)  # show what the service holds now
            return False
        self._busy = None
        self.notify(done, markup=False, timeout=4)
        if queue:
            if next_id is None and await self._more_rows():
                next_id = self._neighbour(+1)
            if next_id is not None and next_id != task.task_id:
                self.load(next_id)
                return True
            self.notify("Audit queue: that was the last task of the list.", markup=False, timeout=5)
        if isinstance(result, Task) and result.task_id == task.task_id:
            self.show_task(result)
        else:
            self.load(task.task_id)
        return True

    @work(exclusive=True, group="detail-action")
    async def action_accept(self) -> None:
        task = self._ready("accept")
        if task is None:
            return
        tid = task.task_id
        await self._act(f"Accepting {one_line(tid, 40)}", lambda: self.store.accept(tid),
                        f"Accepted {one_line(tid, 60)}.", queue=self._in_audit_queue())

    @work(exclusive=True, group="detail-action")
    async def action_reject(self) -> None:
        task = self._ready("reject")
        if task is None:
            return
        tid = task.task_id
        comment = await self.app.push_screen_wait(RejectDialog(one_line(tid, 50)))
        if comment is None:
            return
        await self._act(f"Rejecting {one_line(tid, 40)}", lambda: self.store.reject(tid, comment or None),
                        f"Rejected {one_line(tid, 60)}.", queue=self._in_audit_queue())

    def _fix_text(self, task: Task) -> str:
        return pretty_json(task.response if task.response is not None else {})

    def _fix_submitter(self, tid: str):
        async def submit(response: dict[str, Any]) -> str | None:
            self._busy = f"fixing {one_line(tid, 40)}"
            try:
                result = await self.store.fix(tid, response)
            except Exception as e:
                return clean(str(e) or type(e).__name__)
            finally:
                self._busy = None
            self.notify(f"Fixed {one_line(tid, 60)}: the previous response is kept in prior_responses.",
                        markup=False, timeout=5)
            if isinstance(result, Task) and result.task_id == tid:
                self.show_task(result)
            else:
                self.load(tid)
            return None
        return submit

    @work(exclusive=True, group="detail-action")
    async def action_fix(self) -> None:
        task = self._ready("fix")
        if task is None:
            return
        await self._open_fix_editor(task.task_id, self._fix_text(task))

    async def _open_fix_editor(self, tid: str, text: str, error: str | None = None) -> None:
        current = self.shown_task.response if self.shown_task is not None else None
        await self.app.push_screen_wait(FixEditor(
            tid, text, self._fix_submitter(tid), error=error,
            original=current if current is not None else {}))

    @work(exclusive=True, group="detail-action")
    async def action_fix_external(self) -> None:
        task = self._ready("fix_external")
        if task is None:
            return
        tid = task.task_id
        text = self._fix_text(task)
        try:
            with self.app.suspend():
                edited = edit_in_external_editor(text)
        except Exception as e:
            self.notify(f"Could not use the external editor ({clean(str(e))}); opening the built-in editor.",
                        severity="warning", markup=False)
            await self._open_fix_editor(tid, text)
            return
        if edited.strip() == text.strip():
            self.notify("No changes: nothing was submitted.", markup=False, timeout=4)
            return
        value, error, _at = validate_response_json(edited)
        if error:
            # nothing lost: continue in the built-in editor with the error shown
            await self._open_fix_editor(tid, edited, error=f"Invalid JSON — {error}.")
            return
        failure = await self._fix_submitter(tid)(value)
        if failure:
            await self._open_fix_editor(tid, edited, error=f"The fix was not saved: {failure}.")

    @work(exclusive=True, group="detail-action")
    async def action_cancel_task(self) -> None:
        task = self._ready("cancel")
        if task is None:
            return
        tid = task.task_id
        ok = await self.app.push_screen_wait(ConfirmDialog(
            f"Cancel task {one_line(tid, 50)}?",
            f"{tid} is Queued. Canceling it stops it from being worked on; this cannot be undone.",
            yes="Cancel task", no="Keep it"))
        if not ok:
            return
        await self._act(f"Canceling {one_line(tid, 40)}", lambda: self.store.cancel(tid),
                        f"Canceled {one_line(tid, 60)}.")

    @work(exclusive=True, group="detail-io")
    async def action_download(self) -> None:
        task = self._ready("download")
        if task is None:
            return
        try:
            path = await asyncio.to_thread(download_task, task.raw, self.downloads_dir)
        except (DownloadError, OSError) as e:
            self.notify(f"Download failed: {clean(str(e))}", severity="error", markup=False, timeout=8)
            return
        self.notify(f"Saved {one_line(task.task_id, 40)} to {clean(str(path))}", markup=False, timeout=6)

    def _copy(self, text: str, what: str) -> None:
        result = copy_text(self.app, text, what=what, too_big_hint="Download it with d instead.")
        self.notify(result.message, severity="information" if result.ok else "warning", markup=False,
                    timeout=4 if result.ok else 8)

    def action_copy_id(self) -> None:
        if self._ready("copy") is not None:
            self._copy(self.task_id, f"the task id {one_line(self.task_id, 40)}")

    def action_copy_json(self) -> None:
        task = self._ready("copy")
        if task is not None:
            self._copy(task_json(task.raw), f"the JSON of {one_line(task.task_id, 40)}")

    def action_copy_url(self) -> None:
        task = self._ready("copy")
        if task is None:
            return
        if not task.attachment:
            self.notify("This task has no attachment URL.", markup=False, timeout=4)
            return
        self._copy(task.attachment, "the attachment URL")
