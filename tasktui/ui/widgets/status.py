"""How task and audit statuses look: a glyph, the word, and a colour (never colour alone).
The one home of that look: the table shows glyph and word, the detail screen the word in
the same colour, bold."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tasktui.domain import AuditStatus, OperatorStatus, Task
from tasktui.ui.safe import one_line

STATUS_LOOK: dict[OperatorStatus, tuple[str, Style]] = {
    OperatorStatus.COMPLETED: ("✔", Style(color="green")),
    OperatorStatus.IN_PROGRESS: ("▶", Style(color="yellow")),
    OperatorStatus.QUEUED: ("◷", Style(color="cyan")),
    OperatorStatus.ERROR: ("✖", Style(color="red", bold=True)),
    OperatorStatus.CANCELED: ("⊘", Style(color="bright_black")),
    OperatorStatus.REDO: ("↻", Style(color="magenta")),
}

AUDIT_LOOK: dict[AuditStatus, tuple[str, Style]] = {
    AuditStatus.READY_TO_AUDIT: ("●", Style(color="yellow")),
    AuditStatus.ACCEPTED: ("✔", Style(color="green")),
    AuditStatus.FIXED: ("✎", Style(color="cyan")),
    AuditStatus.REJECTED: ("✖", Style(color="red")),
}

UNKNOWN_STYLE = Style(color="bright_black", italic=True)


def status_cell(task: Task) -> tuple[str, Style]:
    """(text, style) of a task's operator status, e.g. ("✔ Completed", green)."""
    s = task.operator_status
    if s is None:
        return f"? {one_line(task.raw.get('status'))}", UNKNOWN_STYLE
    glyph, style = STATUS_LOOK[s]
    return f"{glyph} {s.label}", style


def audit_cell(task: Task) -> tuple[str, Style]:
    """(text, style) of a task's audit status; ("", plain) when it has none."""
    a = task.audit_status
    if a is None:
        return "", Style()
    glyph, style = AUDIT_LOOK[a]
    return f"{glyph} {a.label}", style


def status_text(task: Task) -> Text:
    text, style = status_cell(task)
    return Text(text, style=style)


def audit_text(task: Task) -> Text:
    text, style = audit_cell(task)
    return Text(text or "—", style=style)


_BOLD = Style(bold=True)
_AUDIT_BY_LABEL = {a.label: a for a in AuditStatus}


def status_word(task: Task) -> Text:
    """The operator status word in its colour, bold (unknown wire statuses: plain bold)."""
    s = task.operator_status
    style = STATUS_LOOK[s][1] + _BOLD if s is not None else _BOLD
    return Text(one_line(task.status_label), style=style)


def audit_label_style(label: str, default: str | Style = "bold") -> Style | str:
    """The bold colour of an audit status, by its label ("Ready to Audit", "Fixed"...);
    ``default`` for any other word."""
    a = _AUDIT_BY_LABEL.get(label)
    return AUDIT_LOOK[a][1] + _BOLD if a is not None else default
