"""What the app shows: the screen as text, and the exact bytes a terminal would be
sent to draw it (Textual's own full-screen update, escape sequences included)."""

from __future__ import annotations

import re

#: sequences Textual itself writes to draw: SGR colours / attributes and cursor moves
DRAWING_RE = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H|\x1b\[\d*[ABCDGK]")
#: what must never reach the terminal from task data: any other ESC, C1 control, BEL...
TERMINAL_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def terminal_bytes(app) -> str:
    """The full-screen update as the driver would write it."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(app.console)


def foreign_controls(app) -> list[str]:
    """Control characters in the terminal output that are not Textual's own drawing."""
    raw = terminal_bytes(app)
    rest = DRAWING_RE.sub("", raw).replace("\n", "")
    return sorted({repr(m.group(0)) for m in TERMINAL_CONTROL_RE.finditer(rest)})
