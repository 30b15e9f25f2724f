"""Command palette (``ctrl+p``) for the Tasks screen: every action of the screen (from
its bindings, with their keys), the saved filter views from the config file, quick date
ranges, time zones, and saving the current filters as a view."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tasktui.domain import Zone
from tasktui.ui.help import collect_entries

if TYPE_CHECKING:
    from tasktui.ui.tasks_screen import TasksScreen


def _commands(screen: "TasksScreen") -> list[tuple[str, Callable[[], object], str]]:
    out: list[tuple[str, Callable[[], object], str]] = []
    for name in screen.settings.views:
        out.append((f"View: {name}", partial(screen.apply_view, name),
                    "apply this saved filter view (from the config file)"))
    out.append(("Save current filters as a view…", screen.action_save_view,
                "store the filters in the config file's \\[views] table"))
    for key, label in (("today", "Today"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("all", "All time")):
        out.append((f"Date range: {label}", partial(screen.apply_quick_range, key), "set From / To"))
    for z in Zone:
        out.append((f"Time zone: {z.label}", partial(screen.set_zone, z), "show and type dates in this zone"))
    seen: set[str] = set()
    for e in collect_entries(screen):
        if e.binding_id in seen or e.binding_id.startswith(("table.down", "table.up", "help.")):
            continue
        seen.add(e.binding_id)
        if not e.enabled:
            continue
        out.append((e.description, partial(screen.run_binding, e.binding_id), "key: " + " ".join(e.keys)))
    return out


class TasksCommands(Provider):
    """Actions and saved views of the Tasks screen."""

    def _target(self) -> "TasksScreen | None":
        from tasktui.ui.tasks_screen import TasksScreen

        for s in reversed(self.app.screen_stack):
            if isinstance(s, TasksScreen):
                return s
        return None

    async def discover(self) -> Hits:
        screen = self._target()
        if screen is None:
            return
        for text, cb, help_text in _commands(screen):
            yield DiscoveryHit(Text(text), cb, text=text, help=help_text)

    async def search(self, query: str) -> Hits:
        screen = self._target()
        if screen is None:
            return
        matcher = self.matcher(query)
        for text, cb, help_text in _commands(screen):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), cb, text=text, help=help_text)
