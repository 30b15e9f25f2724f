"""Issue 13's property test: over generated hostile tasks (extreme numbers, dates at the
calendar's edges, long and deeply nested values, separators, control and bidi characters)
every tab's renderer, the JSON view's text, the preview's legend and plot data and the
table row render without an exception and within a time budget per case.

The budget guards against freezes (a renderer whose time grows with the data without
bound), not against slowness: it is generous. ``TASKTUI_HOSTILE_CASES`` raises the number
of cases (default 25, a few seconds); ``TASKTUI_HOSTILE_REPORT=FILE`` also renders each case
a second time under tracemalloc (not timed: tracing slows allocation several times) and
writes the figures RELIABILITY.md quotes to FILE as JSON.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from PIL import Image
from rich.console import Console

from tasktui.domain import Task, Zone
from tasktui.domain.task import MalformedTaskError
from tasktui.ui.safe import pretty_json
from tasktui.ui.screens.detail_tabs import (
    render_audit,
    render_header,
    render_instructions,
    render_response,
    render_summary,
)
from tasktui.ui.widgets.json_view import bound_json_text
from tasktui.ui.widgets.preview import (
    _legend_text,
    annotate_image,
    cloud_bounds,
    parse_point_cloud,
    plan_annotations,
    plan_cuboids,
)
from tasktui.ui.widgets.task_table import COLUMNS, TaskTable

from .hostile import EXTREME_NUMBERS, hostile_tasks

CASES = int(os.environ.get("TASKTUI_HOSTILE_CASES", "25"))
REPORT = os.environ.get("TASKTUI_HOSTILE_REPORT")
BUDGET_S = 2.0  # CPU seconds per case: a freeze takes seconds to minutes
IMAGE = Image.new("RGB", (64, 48), (0, 0, 0))


def _print(console: Console, renderable) -> None:
    console.print(renderable)


def render_everything(doc: dict, table: TaskTable) -> bool:
    """Every renderer on one task document; False when the task is refused as malformed
    (the store refuses it too: nothing to render)."""
    try:
        task = Task.from_wire(doc)
    except MalformedTaskError:
        return False
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="truecolor")
    for zone in Zone:
        _print(console, render_summary(task, zone))
        _print(console, render_audit(task, zone))
        table.set_zone(zone)
        for col in COLUMNS:
            table.cell_text(task, col.key)
    _print(console, render_header(task, read_only=True, position="1 of 1"))
    _print(console, render_response(task))
    render_instructions(task)
    bound_json_text(pretty_json(task.raw))
    response = task.response
    plan = plan_annotations(response)
    _print(console, _legend_text(plan.legend))
    plan.note()
    annotate_image(IMAGE, response)
    annotate_image(IMAGE, response, target=(40, 20))
    cuboids, _skipped = plan_cuboids(response)
    for _label, corners, bounds in cuboids:
        assert all(math.isfinite(v) for xy in corners for v in xy) and all(math.isfinite(v) for v in bounds)
    points = [[v, 1.0, 2.0] for v in EXTREME_NUMBERS if isinstance(v, (int, float))] + [[0, 0, 0]]
    for a in (response or {}).get("annotations", []) if isinstance(response, dict) else []:
        pos = a.get("position") if isinstance(a, dict) else None
        if isinstance(pos, dict):
            points.append([pos.get("x"), pos.get("y"), pos.get("z")])
    cloud = parse_point_cloud(json.dumps({"points": points}, default=str).encode())
    for axis in (cloud.xs, cloud.ys, cloud.zs):
        assert all(math.isfinite(v) for v in cloud_bounds(axis))
    return True


def test_every_renderer_takes_hostile_tasks_without_an_exception_or_a_freeze() -> None:
    table = TaskTable()
    figures = {"cases": 0, "rendered": 0, "refused_as_malformed": 0, "crashes": 0, "longest_s": 0.0,
               "peak_memory_mb": 0.0}

    @settings(max_examples=CASES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example])
    @given(hostile_tasks())
    def one_case(doc: dict) -> None:
        figures["cases"] += 1
        # CPU time of this process, not wall time: the guard is against renderers whose work
        # grows without bound, and must not fail because other processes share the machine
        started = time.process_time()
        try:
            rendered = render_everything(doc, table)
        except Exception:
            figures["crashes"] += 1
            raise
        elapsed = time.process_time() - started
        figures["longest_s"] = max(figures["longest_s"], elapsed)
        figures["rendered" if rendered else "refused_as_malformed"] += 1
        assert elapsed < BUDGET_S, f"{elapsed:.2f} CPU s for one task: a renderer does not scale"
        if REPORT:
            tracemalloc.start()
            try:
                render_everything(doc, table)
                peak = tracemalloc.get_traced_memory()[1] / 1e6
            finally:
                tracemalloc.stop()
            figures["peak_memory_mb"] = max(figures["peak_memory_mb"], peak)

    started = time.perf_counter()
    try:
        one_case()
    finally:
        if REPORT:
            figures.update(peak_memory_mb=round(figures["peak_memory_mb"], 1),
                           total_s=round(time.perf_counter() - started, 1), longest_s=round(figures["longest_s"], 3))
            Path(REPORT).write_text(json.dumps(figures, indent=2) + "\n")
    assert figures["rendered"] > 0


def test_audit_times_that_are_not_a_duration_are_left_out() -> None:
    # found by the property test: audit_time_secs NaN crashed render_audit
    console = Console(file=io.StringIO(), width=100)
    for secs in (math.nan, math.inf, -math.inf, -5, 1e308, 10**40):
        task = Task.from_wire({"task_id": "t", "status": "completed",
                               "audits": [{"accepted": True, "audit_time_secs": secs}]})
        console.print(render_audit(task, Zone.PACIFIC))
        assert "took" not in render_audit(task, Zone.UTC).renderables[1].plain, secs
    task = Task.from_wire({"task_id": "t", "status": "completed", "audits": [{"accepted": True, "audit_time_secs": 75}]})
    assert "took 1 min 15 s" in render_audit(task, Zone.UTC).renderables[1].plain
