"""The detail screen's tabs as pure renderers: a :class:`~tasktui.domain.Task` (and the
zone for dates) in, Rich renderables (or Markdown / JSON text) out. No Textual, no store:
each is tested on its own and the screen only puts the result in place.

Every renderer is bounded, whatever the task holds: a field, a comment, a JSON block or
the Markdown instructions are cut past a limit, with a line saying what was cut and that
the JSON tab (3) has the whole; a diff of responses too large to compare is not
computed. :func:`is_large` tells the screen when building a tab is worth a worker
thread.
"""

from __future__ import annotations

import difflib
from typing import Any

from markdown_it import MarkdownIt
from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from tasktui.domain import Task, Zone, format_instant, parse_wire_time
from tasktui.ui.safe import clean, one_line, pretty_json
from tasktui.ui.widgets.status import audit_label_style, status_word

__all__ = [
    "MAX_FIELD_CHARS", "MAX_JSON_BLOCK_CHARS", "MAX_MARKDOWN_CHARS", "is_large", "render_audit",
    "render_header", "render_instructions", "render_response", "render_summary", "render_tab", "response_diff",
]

#: longest text of one Summary value, audit comment or review comment shown
MAX_FIELD_CHARS = 4_000
#: longest JSON block (a response, a prior response) shown highlighted
MAX_JSON_BLOCK_CHARS = 20_000
#: the Markdown widget builds widgets per block, slowly (a paragraph about 3 ms, a table
#: 30 ms and more): at most this many characters and this much block "cost" are rendered
MAX_MARKDOWN_CHARS = 16_000
MAX_MARKDOWN_COST = 150
#: responses with more lines than this are not diffed (difflib is quadratic at worst)
MAX_DIFF_LINES = 2_000
#: longest audit duration shown (a year); beyond it, or not a number, it is left out
MAX_AUDIT_SECS = 366 * 24 * 3600
#: a task whose text adds up to more than this is rendered in a worker thread
LARGE_TASK_CHARS = 50_000

_AUDIT_TIME_KEYS = ("audited_at", "audit_time", "created_at", "time", "timestamp")
_AUDIT_SHOWN_KEYS = frozenset({
    *_AUDIT_TIME_KEYS, "accepted", "audit_result", "action", "result", "audited_by", "auditor", "user",
    "email", "by", "comments", "comment", "fixed", "audit_time_secs", "audit_source"})


def _cut(text: str, limit: int) -> tuple[str, int]:
    """``text`` cut to at most ``limit`` characters (at a line end when there is one in
    the last half), and the length of the whole (0 when nothing was cut)."""
    if len(text) <= limit:
        return text, 0
    head = text[:limit]
    nl = head.rfind("\n")
    return (head[: nl + 1] if nl >= limit // 2 else head), len(text)


def _cut_note(shown: int, whole: int, what: str = "characters") -> str:
    return f"cut: the first {shown:,} of {whole:,} {what} are shown; the JSON tab (3) has all of it"


def _bounded(value: Any, limit: int = MAX_FIELD_CHARS, *, multiline: bool = True) -> Text:
    """``value`` (text) cleaned, at most ``limit`` characters, and a dim line when cut."""
    raw = value if isinstance(value, str) else ("" if value is None else str(value))
    head, whole = _cut(raw, limit)
    out = Text(clean(head, multiline=multiline))
    if whole:
        out.append(("\n" if multiline else " ") + f"… {_cut_note(len(head), whole)}", style="dim italic")
    return out


def _bounded_json(value: Any, limit: int = MAX_FIELD_CHARS) -> Text:
    return _bounded(pretty_json(value), limit)


def _size(value: Any, budget: int) -> int:
    """About how many characters ``value`` holds, counting no further than ``budget``."""
    total = 0
    stack = [value]
    while stack and total <= budget:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, dict):
            total += len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            total += len(v)
            stack.extend(v)
        else:
            total += 8
    return total


def is_large(t: Task) -> bool:
    """Whether the task holds enough text that building its tabs is done off the UI thread."""
    return _size(t.raw, LARGE_TASK_CHARS) > LARGE_TASK_CHARS


def response_diff(before: Any, after: Any) -> Text:
    """A coloured unified diff of two responses as pretty JSON (not computed past
    ``MAX_DIFF_LINES`` lines a side: it says so)."""
    a = pretty_json(before).splitlines()
    b = pretty_json(after).splitlines()
    out = Text()
    if max(len(a), len(b)) > MAX_DIFF_LINES:
        out.append(f"The responses are too large to compare here ({len(a):,} and {len(b):,} lines of JSON); "
                   "the JSON tab (3) has both in full.", style="dim")
        return out
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


def _json_block(value: Any) -> Any:
    """Highlighted JSON, cut past ``MAX_JSON_BLOCK_CHARS`` with a line saying so."""
    head, whole = _cut(pretty_json(value), MAX_JSON_BLOCK_CHARS)
    block = Syntax(head, "json", theme="ansi_dark", word_wrap=True, background_color="default")
    if not whole:
        return block
    return Group(block, Text(f"… {_cut_note(len(head), whole)}", style="dim italic"))


def render_header(t: Task, *, read_only: bool, position: str) -> Text:
    """The two header lines: id, status and audit status; project, type, batch, position."""
    h = Text()
    h.append("Task ", style="bold")
    h.append(one_line(t.task_id, 60), style="bold")
    h.append("  ")
    h.append(status_word(t))
    if t.audit_label:
        h.append("  ·  ")
        h.append(t.audit_label, style=audit_label_style(t.audit_label))
    if read_only:
        h.append("  read-only", style="bold yellow")
    h.append("\n")
    h.append(f"{one_line(t.project or '(no project)', 40)}  ·  {one_line(t.type or '(no type)', 30)}")
    if t.batch:
        h.append(f"  ·  {one_line(t.batch, 40)}")
    if position:
        h.append(f"  ·  {position}", style="dim")
    return h


def _time(t: Task, key: str, zone: Zone) -> Text:
    raw = t.raw.get(key)
    dt = parse_wire_time(raw) if isinstance(raw, str) else None
    if dt is None:
        return Text("—" if raw in (None, "") else one_line(raw, 60), style="dim")
    return Text(format_instant(dt, zone, seconds=True, abbrev=True))


def render_summary(t: Task, zone: Zone) -> Table:
    """Every field of the task, one a row; dates in ``zone``."""
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
            table.add_row(Text(label), _bounded_json(value))
        else:
            table.add_row(Text(label), _bounded(value))

    row("Task ID", t.task_id)
    row("Status", status_word(t))
    row("Audit status", Text(t.audit_label or "—", style=audit_label_style(t.audit_label, "dim")))
    row("Type", t.type)
    row("Project", t.project)
    row("Batch", t.batch)
    row("Unique ID", t.unique_id)
    row(f"Created ({zone.label})", _time(t, "created_at", zone))
    row(f"Updated ({zone.label})", _time(t, "updated_at", zone))
    row(f"Completed ({zone.label})", _time(t, "completed_at", zone))
    row("Tags", _bounded(", ".join(t.tags[:1_000]), multiline=False) if t.tags else None)
    row("Attachment", t.attachment)
    row("Attachment type", t.attachment_type)
    row("Callback URL", raw.get("callback_url"))
    if t.error_message:
        error = _bounded(t.error_message)
        error.stylize("red")
        row("Error", error)
    row("Instruction", Text(one_line(t.instruction[:400], 200) or "—",
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
                row(clean(key, multiline=False), _time(t, key, zone))
            else:
                row(one_line(key, 80), value)
    return table


def render_response(t: Task) -> Group:
    """What the last fix changed, the current response, and the prior ones (newest first)."""
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
    return Group(*parts)


def render_audit(t: Task, zone: Zone) -> Group:
    """The audits (when, verdict, who, comments) and the customer review."""
    parts: list[Any] = [Text("Audits", style="bold underline")]
    audits = t.audits
    if not audits:
        parts.append(Text("No audits yet.", style="dim"))
    for i, a in enumerate(audits, 1):
        line = Text(f"{i}. ")
        when = next((a.get(k) for k in _AUDIT_TIME_KEYS if a.get(k)), None)
        dt = parse_wire_time(when) if isinstance(when, str) else None
        if dt:
            line.append(format_instant(dt, zone, seconds=True, abbrev=True))
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
                    style=audit_label_style(verdict.capitalize()))
        who = next((a.get(k) for k in ("audited_by", "auditor", "user", "email", "by") if a.get(k)), None)
        if who:
            line.append(f"  by {one_line(who, 60)}")
        secs = a.get("audit_time_secs")
        if isinstance(secs, (int, float)) and not isinstance(secs, bool) and 0 < secs <= MAX_AUDIT_SECS:
            # (zero says nothing; NaN, infinities, negative or absurd durations are not a
            # time an audit took)
            m, sec = divmod(int(secs), 60)
            line.append(f"  · took {m} min {sec} s" if m else f"  · took {sec} s", style="dim")
        source = a.get("audit_source")
        if source and str(source).strip().lower() != str(who or "").strip().lower():
            line.append(f"  · {one_line(source, 30)} audit", style="dim")  # "customer" / "scale"
        parts.append(line)
        comments = a.get("comments") or a.get("comment")
        if comments:
            parts.append(Text("   ") + _bounded(comments if isinstance(comments, str) else pretty_json(comments)))
        extra = {k: v for k, v in a.items() if k not in _AUDIT_SHOWN_KEYS}
        if extra:
            shown = _bounded_json(extra)
            parts.append(Text("   ") + Text(shown.plain.replace("\n", "\n   "), style="dim"))
    parts.append(Text(""))
    parts.append(Text("Customer review", style="bold underline"))
    parts.append(Text("Status: ") + Text(t.audit_label or (one_line(t.customer_review_status, 60) or "—"),
                                         style=audit_label_style(t.audit_label, "")))
    comments = t.customer_review_comments
    if comments:
        parts.append(Text(f"Comments ({len(comments)}):"))
        for c in comments:
            parts.append(Text("  • " + _bounded(c).plain.replace("\n", "\n    ")))
    else:
        parts.append(Text("No review comments.", style="dim"))
    return Group(*parts)


def _markdown_cost(token: Any) -> int:
    start, end = token.map
    if token.type == "table_open":
        return 10 + (end - start)
    if token.type in ("bullet_list_open", "ordered_list_open", "fence", "code_block"):
        return max(1, end - start)
    return 1


def _markdown_head(text: str) -> str:
    """The longest start of ``text`` (at a line end) within ``MAX_MARKDOWN_CHARS`` whose
    blocks cost at most ``MAX_MARKDOWN_COST`` to build as widgets."""
    head, _whole = _cut(text, MAX_MARKDOWN_CHARS)
    starts = [0]
    for line in head.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    cost = 0
    for token in MarkdownIt("gfm-like").parse(head):
        if token.level != 0 or token.nesting < 0 or token.map is None:
            continue
        c = _markdown_cost(token)
        if cost + c > MAX_MARKDOWN_COST:
            start = token.map[0]
            # a first block too big on its own is shown in part
            line = start if start > 0 else min(MAX_MARKDOWN_COST, token.map[1])
            return head[: starts[min(line, len(starts) - 1)]]
        cost += c
    return head


def render_instructions(t: Task) -> str:
    """The instructions as Markdown for the Markdown widget: cleaned, at most
    ``MAX_MARKDOWN_CHARS`` of them (cut at a line end); when cut, a note above them and a
    line where they stop say so."""
    if not t.instruction:
        return "*This task has no instructions.*"
    head = _markdown_head(t.instruction)
    whole = len(t.instruction) if len(head) < len(t.instruction) else 0
    text = clean(head)
    if whole:
        text = (f"> The instructions are cut here: the first {len(head):,} of {whole:,} characters are "
                "shown. The JSON tab (3) has the full text.\n\n" + text
                + "\n\n---\n\n*The instructions are cut here (see the note at the top).*")
    return text


def render_tab(tab: str, t: Task, zone: Zone) -> Any:
    """What the tab ``tab`` shows for ``t``: a Rich renderable, or text for the
    ``instructions`` (Markdown) and ``json`` tabs. Pure: safe to call in a worker thread."""
    if tab == "summary":
        return render_summary(t, zone)
    if tab == "instructions":
        return render_instructions(t)
    if tab == "json":
        return pretty_json(t.raw)
    if tab == "response":
        return render_response(t)
    if tab == "audit":
        return render_audit(t, zone)
    raise ValueError(f"no renderer for the tab {tab!r}")
