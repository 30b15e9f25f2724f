"""``annotated.png`` for responses no labeler would draw (issue 13, item 1, server part):
boxes at 1e19, NaN / inf / 1e308 coordinates (as numbers or as strings), inverted and
zero-sized boxes, huge polygons. The answer is always a 640x400 PNG and the drawing work
is bounded (counted here at Pillow's drawing calls, not timed): what can be drawn is drawn
(clamped to the picture), the rest is skipped and the picture says how many."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image, ImageDraw

from tasktui.server import seed_database, start_server_thread

BIG = [1e19, -1e19, 1e308, -1e308, 2**63, 10**30, "nan", "inf", "-inf", "1e999", 1e-320]


@pytest.fixture
def drawn(monkeypatch):
    """Pillow's drawing calls made while the test runs (the server runs in this process):
    ``calls`` per kind, and the most points one line was given."""
    seen = {"calls": 0, "points": 0}
    for name in ("line", "rectangle", "polygon", "text"):
        real = getattr(ImageDraw.ImageDraw, name)

        def counting(self, xy, *a, _real=real, **kw):
            seen["calls"] += 1
            if isinstance(xy, (list, tuple)):
                seen["points"] = max(seen["points"], len(xy))
            return _real(self, xy, *a, **kw)

        monkeypatch.setattr(ImageDraw.ImageDraw, name, counting)
    return seen


@pytest.fixture(scope="module")
def c(tmp_path_factory, api_key, seed_now):
    path = tmp_path_factory.mktemp("extremes") / "x.db"
    seed_database(path, 300, seed=11, now=seed_now)
    handle = start_server_thread(path, [api_key])
    with httpx.Client(base_url=handle.origin, auth=(api_key, ""), timeout=60) as client:
        yield client
    handle.stop()


def completed(c, project: str) -> dict:
    return c.get("/v1/tasks", params={"project": project, "status": "completed", "limit": 1}).json()["docs"][0]


def annotated(c, task: dict, response: dict) -> tuple[Image.Image, float]:
    r = c.post(f"/v1/task/{task['task_id']}/audit", json={"response": response})
    assert r.status_code == 200, r.text
    url = task["params"]["attachment"].replace("image.png", "annotated.png")
    r = c.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text[:300]
    img = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert img.size == (640, 400)
    return img, None


@pytest.mark.parametrize("field", ["left", "top", "width", "height"])
@pytest.mark.parametrize("value", BIG, ids=[str(v) for v in BIG])
def test_boxes_with_extreme_numbers(c, drawn, field, value):
    box = {"label": "car", "left": 100, "top": 100, "width": 50, "height": 40, field: value}
    annotated(c, completed(c, "Street Scenes"), {"annotations": [box]})
    assert 0 < drawn["calls"] <= 20  # the picture, the box and its label or the legend: no loop over the number


def test_a_box_far_off_the_picture_is_clamped_and_the_drawable_one_drawn(c):
    far = {"label": "car", "left": 1e19, "top": 10, "width": 5, "height": 5}
    huge = {"label": "bus", "left": -1e19, "top": -1e19, "width": 1e308, "height": 1e308}  # covers the picture
    ok = {"label": "car", "left": 300, "top": 200, "width": 60, "height": 40}
    img, _ = annotated(c, completed(c, "Street Scenes"), {"annotations": [far, huge, ok]})
    assert img.getpixel((300, 220)) == (255, 255, 0)  # the left edge of the box that fits


def test_undrawable_annotations_are_counted_in_the_picture(c):
    task = completed(c, "Street Scenes")
    clean, _ = annotated(c, task, {"annotations": []})
    bad, _ = annotated(c, task, {"annotations": [{"label": "car", "left": "nan", "top": 1, "width": 1, "height": 1}]})
    assert clean.tobytes() != bad.tobytes()  # a legend says one was skipped


@pytest.mark.parametrize("vertices", [
    [{"x": 1e19, "y": 1}, {"x": -1e19, "y": 5}, {"x": 3, "y": 1e308}],
    [{"x": "nan", "y": 1}, {"x": "inf", "y": 2}, {"x": 3, "y": 4}],
    [{"x": i % 640, "y": (i * 7) % 400} for i in range(40_000)],
    [{"x": 1e300 * (i % 3 - 1), "y": 1e300 * ((i + 1) % 3 - 1)} for i in range(20_000)],
], ids=["huge", "nan-inf", "40k-vertices", "40k-huge"])
def test_polygons_with_extreme_or_many_vertices(c, drawn, vertices):
    annotated(c, completed(c, "Retail Shelves"), {"annotations": [{"label": "box", "vertices": vertices}]})
    assert 0 < drawn["calls"] <= 20
    assert drawn["points"] <= 2_001  # at most MAX_VERTICES (2,000) points, and the closing one


def test_many_annotations_are_bounded(c, drawn):
    boxes = [{"label": "car", "left": -1e6, "top": -1e6, "width": 2e6, "height": 2e6}] * 5000
    annotated(c, completed(c, "Street Scenes"), {"annotations": boxes})
    assert drawn["calls"] <= 2 * 1_000 + 20  # a box and a label each for the first 1,000, the picture, the legend
