"""The task detail screen: everything about one task, and the actions on it.

``task_ids`` gives the list's order for ``n`` / ``p`` (a callable is re-read at each
step so it follows the live list); ``audit_queue`` (True / False / None = automatic: on
when the list is filtered to Ready to Audit only) moves on to the next task after an
accept or reject. The tabs are drawn by :mod:`tasktui.ui.screens.detail_tabs`, the
inactive ones only when they are opened (so that ``n`` / ``p`` stay quick on big tasks).
Instructions are Markdown whose links are shown, never opened.

Read-only mode hides accept / reject / fix / cancel and refuses their keys with a message.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import Key
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Markdown, Static, TabbedContent, TabPane, TextArea

from tasktui.api import ApiError, Attachment
from tasktui.locations import default_downloads_dir
from tasktui.domain import AuditStatus, Task, Zone
from tasktui.downloads import DownloadError, download_task, task_json
from tasktui.store import StoreEventKind, TaskStore
from tasktui.store.actions import fix_not_offered
from tasktui.ui.clipboard import copy_text
from tasktui.ui.keymap import bind, bindings_for_key
from tasktui.ui.modals.confirm import ConfirmDialog
from tasktui.ui.modals.fix_editor import FixEditor, edit_in_external_editor, validate_response_json
from tasktui.ui.modals.prompt import RejectDialog
from tasktui.ui.safe import clean, one_line, pretty_json
from tasktui.ui.screens.detail_tabs import is_large, render_header, render_tab
from tasktui.ui.store_bridge import StoreChanged, forward_events
from tasktui.ui.widgets.json_view import JsonView
from tasktui.ui.widgets.preview import MediaPreview

__all__ = ["TABS", "TaskDetailScreen"]

TABS = ("summary", "instructions", "json", "response", "audit", "preview")
TAB_TITLES = {
    "summary": "1 Summary", "instructions": "2 Instructions", "json": "3 JSON",
    "response": "4 Response", "audit": "5 Audit history", "preview": "6 Preview",
}
#: actions that change a task (removed in read-only mode)
MUTATING = frozenset({"accept", "reject", "fix", "fix_external", "cancel"})
READ_ONLY_REFUSAL = ("Read-only mode: tasks cannot be accepted, rejected, fixed or canceled here "
                     "(start without --read-only, or set read_only = false in the config).")


class TaskDetailScreen(Screen):
    """Everything about one task; the actions on it."""

    HELP_TITLE = "Task detail"
    HELP_NOTES = (
        "The tab's content has the focus: j / k, PgUp / PgDn, Home / End scroll it. "
        "tab moves the focus to the tab strip (← / → change tab there) and back.",
        "Find in JSON: / opens the find bar, enter finds; then n / N go to the next / "
        "previous match (n goes back to Next task once the find is closed with esc).",
    )

    BINDINGS = [
        # priority: the JSON view would otherwise take esc to give up focus
        bind("detail.back", "escape", "back", "Back", priority=True),
        bind("detail.next", "n", "next_task", "Next"),
        bind("detail.prev", "p", "prev_task", "Prev", show=False),  # n shows; p is in help
        bind("detail.accept", "a", "accept", "Accept"),
        bind("detail.reject", "x", "reject", "Reject"),
        bind("detail.fix", "e", "fix", "Fix"),
        bind("detail.fix_external", "E", "fix_external", "Fix in $EDITOR", show=False),
        bind("detail.cancel", "c", "cancel_task", "Cancel"),
        bind("detail.download", "d", "download", "Download"),
        bind("detail.copy_id", "y", "copy_id", "Copy", tooltip="Copy the task id"),
        bind("detail.copy_json", "Y", "copy_json", "Copy JSON", show=False),
        bind("detail.copy_url", "u", "copy_url", "Copy URL", show=False),
        bind("detail.find_prev", "N", "find_prev", "Prev match", show=False),
        bind("detail.find", "slash", "find", "Find", show=False),
        bind("detail.refresh", "R", "reload", "Re-fetch", show=False),
        # the content of every tab moves with the list's keys (the arrows, PgUp / PgDn work too)
        bind("detail.down", "j", "content('down')", "Scroll down", show=False),
        bind("detail.up", "k", "content('up')", "Scroll up", show=False),
        bind("detail.top", "g", "content('home')", "Top", show=False),
        bind("detail.bottom", "G", "content('end')", "Bottom", show=False),
        bind("detail.tab.summary", "1", "tab('summary')", "Summary", show=False),
        bind("detail.tab.instructions", "2", "tab('instructions')", "Instructions", show=False),
        bind("detail.tab.json", "3", "tab('json')", "JSON", show=False),
        bind("detail.tab.response", "4", "tab('response')", "Response", show=False),
        bind("detail.tab.audit", "5", "tab('audit')", "Audit history", show=False),
        bind("detail.tab.preview", "6", "tab('preview')", "Preview", show=False),
    ]

    _ACTION_OF = {"accept": "accept", "reject": "reject", "fix": "fix", "fix_external": "fix_external",
                  "cancel_task": "cancel"}

    def __init__(
        self,
        store: TaskStore,
        task_id: str,
        *,
        task_ids: Sequence[str] | Callable[[], Sequence[str]] | None = None,
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
        self.downloads_dir = Path(downloads_dir).expanduser() if downloads_dir else default_downloads_dir()
        self._initial_tab = tab if tab in TABS else "summary"
        self._audit_queue = audit_queue
        self._busy: str | None = None
        self._last_index: int | None = None
        self._load_generation = 0
        self._rendered: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None

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
                yield JsonView(id="json-view")
            with TabPane(TAB_TITLES["response"], id="response"):
                with VerticalScroll():
                    yield Static("", id="response-body")
            with TabPane(TAB_TITLES["audit"], id="audit"):
                with VerticalScroll():
                    yield Static("", id="audit-body")
            with TabPane(TAB_TITLES["preview"], id="preview"):
                yield MediaPreview(self._fetch_attachment, id="media-preview")
        # compact, no palette entry (ctrl+p still works): at 80 columns every key fits
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._unsubscribe = forward_events(self.store, self)
        self.load(self.task_id)
        # the content, not the tab strip, has the focus: j / k / PgDn / End scroll it at once
        self.call_after_refresh(self._focus_content)

    def _focus_content(self) -> None:
        """Focus the first focusable widget shown in the active tab's pane."""
        tabs = self.query_one(TabbedContent)
        pane = tabs.get_pane(tabs.active) if tabs.active else None
        if pane is None:
            return
        for widget in self.focus_chain:  # focusable and shown, in order
            if pane in widget.ancestors:
                widget.focus()
                return

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_store_changed(self, message: StoreChanged) -> None:
        """A newer copy of the shown task (a poll, an action elsewhere) is shown at once;
        a new zone redraws the dates. The optimistic copy of this screen's own action in
        flight is not shown: the header says what is being done until it is over."""
        ev = message.event
        if ev.kind is StoreEventKind.TASK and self.task_id in ev.task_ids and not self._busy:
            task = self.store.cached(self.task_id)
            if task is not None and self.shown_task is not None and task is not self.shown_task:
                self.show_task(task)
        elif ev.kind is StoreEventKind.ZONE and self.shown_task is not None:
            self.show_task(self.shown_task)

    # ------------------------------------------------------------------ data
    async def _fetch_attachment(self, url: str) -> Attachment:
        return await self.store.client.fetch_attachment(url)

    @property
    def zone(self) -> Zone:
        return self.store.zone

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def in_audit_queue(self) -> bool:
        """Whether accept / reject move on to the next task: as set, else when the list
        is filtered to Ready to Audit only."""
        if self._audit_queue is not None:
            return self._audit_queue
        audits = self.store.query.audit_statuses
        return bool(audits) and set(audits) == {AuditStatus.READY_TO_AUDIT}

    @property
    def json_view(self) -> JsonView:
        return self.query_one(JsonView)

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
                # the error names the task already ("Could not get task X: ...")
                self._notice(f"{clean(str(e)).rstrip('.')}. R retries.")
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
        if tab == "preview":
            self.query_one(MediaPreview).show(task)
        elif is_large(task):
            self._render_in_thread(tab, task)  # bounded, but building it still takes a while
        else:
            self._place(tab, render_tab(tab, task, self.zone))

    @work(group="detail-render")
    async def _render_in_thread(self, tab: str, task: Task) -> None:
        out = await asyncio.to_thread(render_tab, tab, task, self.zone)
        if self.shown_task is task and tab in self._rendered:
            self._place(tab, out)

    def _place(self, tab: str, out: Any) -> None:
        if tab == "instructions":
            self.query_one("#instructions-md", Markdown).update(out)
        elif tab == "json":
            self.json_view.load(out)
        else:
            self.query_one(f"#{tab}-body", Static).update(out)

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
        if self.shown_task is not None:
            self.query_one("#detail-header", Static).update(
                render_header(self.shown_task, read_only=self.read_only, position=self._position()))

    # ------------------------------------------------------------------ tabs
    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self._render_tab(event.pane.id)
        self.refresh_bindings()

    def action_content(self, where: str) -> None:
        """``j`` / ``k`` / ``g`` / ``G``: move the focused content (the JSON's cursor, or a
        scrolling pane) down, up, to the top or to the end."""
        widget = self.focused
        if isinstance(widget, TextArea):
            moves = {"down": widget.action_cursor_down, "up": widget.action_cursor_up,
                     "home": lambda: widget.move_cursor((0, 0)),
                     "end": lambda: widget.move_cursor(widget.document.end)}
            moves[where]()
            return
        while widget is not None and not widget.allow_vertical_scroll:
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        if widget is not None:
            getattr(widget, f"action_scroll_{where}")()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.call_after_refresh(self._focus_content)

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
        if self.json_view.find_term and self.active_tab == "json":
            self.json_view.find(self.json_view.find_term, forward=True)
            return
        await self._go(+1)

    async def action_prev_task(self) -> None:
        await self._go(-1)

    def action_back(self) -> None:
        if self.json_view.finding:
            self.json_view.close_find()
            return
        self.dismiss(self.shown_task)

    def action_reload(self) -> None:
        self.load(self.task_id)

    # ------------------------------------------------------------------ JSON search
    def action_find(self) -> None:
        self.action_tab("json")
        self.json_view.open_find()

    def action_find_prev(self) -> None:
        if self.json_view.find_term:
            self.json_view.find(self.json_view.find_term, forward=False)

    @on(JsonView.FindChanged)
    def _find_changed(self) -> None:
        self.refresh_bindings()

    # ------------------------------------------------------------------ read-only & refusals
    def _not_offered(self, kind: str) -> str | None:
        """Why the action ``kind`` is not offered here at all (hidden from the footer,
        help and palette; its key says this sentence), or None."""
        if self.read_only:
            return self.store.read_only_sentence or READ_ONLY_REFUSAL
        if kind in ("fix", "fix_external") and not self.store.can_fix:
            return fix_not_offered()
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        kind = self._ACTION_OF.get(action)
        if kind and self._not_offered(kind):
            return False
        if action == "find_prev":
            views = self.query(JsonView)
            return bool(views) and bool(views.first().find_term)
        return True

    def on_key(self, event: Key) -> None:
        # An action that is not offered (read-only mode, a server without Fix) is hidden and
        # disabled; say why when its key is pressed anyway.
        focused = self.focused
        if isinstance(focused, Input) or (isinstance(focused, TextArea) and not focused.read_only):
            return
        for binding in bindings_for_key(self, event.key):
            kind = self._ACTION_OF.get(binding.action)
            why = self._not_offered(kind) if kind else None
            if why:
                event.stop()
                event.prevent_default()
                self.notify(why, severity="warning", markup=False)
                return

    def _refuse_read_only(self) -> None:
        self.notify(self.store.read_only_sentence or READ_ONLY_REFUSAL, severity="warning", markup=False)

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
        if kind in ("fix", "fix_external") and not self.store.can_fix:
            self.notify(fix_not_offered(), severity="warning", markup=False)
            return None
        if kind == "cancel":
            ok, why = self.shown_task.can_cancel()
            if not ok:
                self.notify(f"Cannot cancel: {why}.", severity="warning", markup=False)
                return None
        return self.shown_task

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
        if task.audit_status is AuditStatus.ACCEPTED:
            again = await self.app.push_screen_wait(ConfirmDialog(
                "Already accepted",
                f"Task {one_line(tid, 60)} is already Accepted. Accepting it again adds a second "
                "audit to its history.", yes="Accept again", no="Keep as is"))
            if not again:
                self.notify("Nothing changed: the task was already Accepted.", markup=False, timeout=3)
                return
        await self._act(f"Accepting {one_line(tid, 40)}", lambda: self.store.accept(tid),
                        f"Accepted {one_line(tid, 60)}.", queue=self.in_audit_queue)

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
                        f"Rejected {one_line(tid, 60)}.", queue=self.in_audit_queue)

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
        # toasts from before (a refused cancel, an earlier action) would cover the editor's
        # key hints: it is a new context, and its status line says what it needs
        self.app.clear_notifications()
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
        self.app.clear_notifications()  # as for e (the editor may open here too)
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
        backend = getattr(self.app, "backend", None)
        note = backend.attachment_note() if backend is not None else None
        self.notify(f"Saved {one_line(task.task_id, 40)} to {clean(str(path))}" + (f". {note}" if note else ""),
                    markup=False, timeout=12 if note else 6)

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
