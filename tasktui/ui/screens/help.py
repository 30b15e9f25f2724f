"""The ``?`` help screen: every key of the screen underneath, generated from its bindings
(with the operator's remapping applied), so it never lies.

Bindings are gathered from the app, the screen and every widget on it that declares
bindings with an id; a widget or screen may name its section with a ``HELP_TITLE`` class
attribute and add free-text lines with ``HELP_NOTES``. The command palette lists the same
entries (:func:`collect_entries`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from tasktui.ui.keymap import action_state, bind, node_bindings
from tasktui.ui.modals.confirm import Dialog


@dataclass
class HelpEntry:
    section: str
    keys: list[str]
    description: str
    binding_id: str
    enabled: bool


def _section_of(node: DOMNode) -> str:
    title = getattr(type(node), "HELP_TITLE", None)
    if title:
        return title
    if node is node.app:
        return "Everywhere"
    return plain_name(type(node).__name__)


def plain_name(class_name: str) -> str:
    """A class name in words, for a section without a HELP_TITLE: "TaskDetailScreen" ->
    "Task detail"."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", class_name)
    if len(words) > 1 and words[-1] in ("Screen", "Widget", "Dialog"):
        words = words[:-1]
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def collect_entries(screen: Screen) -> list[HelpEntry]:
    """Every binding with an id that works on ``screen``, its keys as remapped."""
    app = screen.app
    nodes: list[DOMNode] = []
    seen_classes: set[type] = set()
    for node in [screen, *screen.query("*")]:
        if type(node) in seen_classes:
            continue
        seen_classes.add(type(node))
        nodes.append(node)
    nodes.append(app)
    entries: dict[tuple[str, str], HelpEntry] = {}
    order: list[tuple[str, str]] = []
    for node in nodes:
        bm = node_bindings(node)
        section = _section_of(node)
        for key, bindings in bm.key_to_bindings.items():
            for b in bindings:
                if not b.id or b.system:
                    continue
                try:
                    state = action_state(node, b.action)
                except Exception:  # noqa: BLE001 - a check must never break help
                    state = True
                if state is False:
                    continue
                k = (section, b.id)
                disp = app.get_key_display(b) if b.key_display is None else b.key_display
                disp = disp or key
                if k not in entries:
                    entries[k] = HelpEntry(section, [], b.tooltip or b.description or b.action, b.id, bool(state))
                    order.append(k)
                if disp not in entries[k].keys:
                    entries[k].keys.append(disp)
    return [entries[k] for k in order]


def help_table(screen: Screen) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column("keys", style="bold", no_wrap=True)
    table.add_column("what", ratio=1)
    table.add_column("id", style="dim")
    current = None
    for e in collect_entries(screen):
        if e.section != current:
            if current is not None:
                table.add_row("", "", "")
            table.add_row(Text(e.section, style="bold underline"), "", "")
            current = e.section
        what = Text(e.description)
        if not e.enabled:
            what.append("  (unavailable here)", style="dim italic")
        table.add_row(Text(" ".join(e.keys)), what, Text(e.binding_id))
    notes = getattr(type(screen), "HELP_NOTES", ())
    if notes:
        table.add_row("", "", "")
        table.add_row(Text("Notes", style="bold underline"), "", "")
        for line in notes:
            table.add_row("", Text(line), "")
    return table


class HelpScreen(Dialog):
    """Keys of the screen underneath."""

    BINDINGS = [
        bind("help.close", "escape,q,question_mark", "dismiss_help", "Close help", key_display="esc"),
        Binding("j,down", "scroll_down", show=False),  # not remappable: no id
        Binding("k,up", "scroll_up", show=False),
        Binding("ctrl+d,pagedown,space", "page_down", show=False),
        Binding("ctrl+u,pageup", "page_up", show=False),
        Binding("G,end", "scroll_end", show=False),
        Binding("g,home", "scroll_home", show=False),
    ]
    HELP_TITLE = "Help"

    def __init__(self, target: Screen) -> None:
        super().__init__()
        self.target = target
        self.table = help_table(target)

    def compose(self) -> ComposeResult:
        title = getattr(type(self.target), "HELP_TITLE", None) or plain_name(type(self.target).__name__)
        with Vertical(classes="dialog"):
            yield Static(Text(f"Keys — {title}"), id="help-title", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(self.table, id="help-table")
            # esc first: the line wraps at narrow widths, but what closes the help is never cut
            yield Static(Text("esc closes · j/k, PgDn/PgUp (ctrl+d/u), g/G scroll · remap: [keymap] "
                              "\"<id>\" = \"<keys>\" in the config file"),
                         id="help-footer")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

    def action_scroll_down(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_up()

    def action_page_down(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_page_down()

    def action_page_up(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_page_up()

    def action_scroll_end(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_end(animate=False)

    def action_scroll_home(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_home(animate=False)

    def plain_text(self) -> str:
        """The help as plain text (for tests)."""
        from rich.console import Console

        console = Console(width=120, record=True, color_system=None)
        with console.capture() as cap:
            console.print(self.table)
        return cap.get()
