"""What the app shows: the screen as text, and the exact bytes a terminal would be
sent to draw it (Textual's own full-screen update, escape sequences included)."""

from __future__ import annotations

import re

from tasktui.ui import keymap

#: sequences Textual itself writes to draw: SGR colours / attributes and cursor moves
DRAWING_RE = re.compile(r"\x1b\[[0-9;:]*m|\x1b\[\d+;\d+H|\x1b\[\d*[ABCDGK]")
#: what must never reach the terminal from task data: any other ESC, C1 control, BEL...
TERMINAL_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


screen_text = keymap.screen_text
#: the full-screen update as the driver would write it
terminal_bytes = keymap.screen_bytes


def foreign_controls(app) -> list[str]:
    """Control characters in the terminal output that are not Textual's own drawing."""
    raw = terminal_bytes(app)
    rest = DRAWING_RE.sub("", raw).replace("\n", "")
    return sorted({repr(m.group(0)) for m in TERMINAL_CONTROL_RE.finditer(rest)})
