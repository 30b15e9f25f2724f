"""Issue 13 item 1: a response with coordinates that cannot be drawn (1e19, 1e300, inf,
NaN) never crashes or freezes the Preview tab; what is left out is said in the legend."""

from __future__ import annotations

import math
import time

from PIL import Image

from tasktui.ui.widgets.preview import (
    MediaPreview,
    PointCloudView,
    annotate_image,
    annotation_legend,
    cloud_bounds,
    parse_point_cloud,
    plan_annotations,
    plan_cuboids,
)

from .support import DetailHost, api_get, find_task, screen_text, set_doc_field, open_preview, wait_for, wait_loaded

EXTREMES = [1e19, -1e19, 1e300, 1e308, -1e308, math.inf, -math.inf, math.nan, 2**70]


def _box(label, left=10, top=10, width=20, height=20):
    return {"label": label, "left": left, "top": top, "width": width, "height": height}


def test_boxes_out_of_range_are_skipped_and_counted_never_drawn():
    img = Image.new("RGB", (200, 100), (0, 0, 0))
    for v in EXTREMES:
        for key in ("left", "top", "width", "height"):
            response = {"annotations": [_box("car"), {**_box("bad"), key: v}]}
            started = time.process_time()
            annotate_image(img, response, target=(40, 20))
            out, legend = annotate_image(img, response)
            assert time.process_time() - started < 2, (key, v)
            assert [label for label, _c, _n in legend] == ["car"], (key, v)
            plan = plan_annotations(response)
            assert plan.skipped == 1, (key, v)
            assert plan.note() == "1 annotation could not be drawn: coordinates out of range"
            assert out.getpixel((10, 20)) == (220, 60, 60)  # the good box is still drawn


def test_huge_but_finite_boxes_are_clamped_so_drawing_stays_quick():
    img = Image.new("RGB", (640, 400), (0, 0, 0))
    response = {"annotations": [_box("car", left=0, top=0, width=9e5, height=9e5),
                                {"label": "p", "vertices": [{"x": 9e5, "y": 5}, {"x": 5, "y": 9e5}, {"x": 9e5, "y": 9e5}]}]}
    started = time.process_time()
    out, legend = annotate_image(img, response)
    assert time.process_time() - started < 2
    assert [label for label, _c, _n in legend] == ["car", "p"]
    assert out.getpixel((0, 200)) == (220, 60, 60)  # the box's left edge, inside the image


def test_polygon_vertices_out_of_range_are_skipped():
    response = {"annotations": [{"label": "p", "vertices": [{"x": 1e300, "y": 0}, {"x": 0, "y": 1}, {"x": 2, "y": 2}]},
                                {"label": "q", "vertices": [[math.nan, 0], [0, 1]]}]}
    plan = plan_annotations(response)
    assert plan.skipped == 2 and annotation_legend(response) == []
    assert plan.note() == "2 annotations could not be drawn: coordinates out of range"
    annotate_image(Image.new("RGB", (50, 50)), response)


def test_cuboids_and_points_out_of_range_are_skipped():
    good = {"label": "car", "position": {"x": 1, "y": 2, "z": 0.5}, "dimensions": {"x": 4, "y": 2, "z": 1.5}}
    for v in EXTREMES:
        bad_pos = {**good, "position": {"x": v, "y": 0, "z": 0}}
        bad_dim = {**good, "dimensions": {"x": 1, "y": v, "z": 1}}
        bad_yaw = {**good, "yaw": v}
        cuboids, skipped = plan_cuboids({"annotations": [good, bad_pos, bad_dim, bad_yaw]})
        assert [c[0] for c in cuboids] == ["car"] and skipped == 3, v
        for _label, corners, bounds in cuboids:
            assert all(math.isfinite(x) and math.isfinite(y) for x, y in corners)
            assert all(math.isfinite(b) for b in bounds)
    cloud = parse_point_cloud(b'{"points": [[1, 2, 3], [1e300, 0, 0], [0, 1e308, 0], [4, 5, 6]]}')
    assert (cloud.xs, cloud.skipped) == ([1, 4], 2)
    assert all(math.isfinite(b) for b in cloud_bounds(cloud.xs))


def test_point_cloud_view_legend_says_what_was_left_out():
    cloud = parse_point_cloud(b'{"points": [[1, 2, 3], [1e300, 0, 0], [4, 5, 6]]}')
    view = PointCloudView(cloud, {"annotations": [
        {"label": "car", "position": {"x": 1e308, "y": 0, "z": 0}, "dimensions": {"x": 1e308, "y": 1, "z": 1}}]})
    text = view.legend().plain
    assert "1 cuboid could not be drawn: coordinates out of range" in text
    assert "1 point could not be drawn: coordinates out of range" in text


async def test_image_task_with_a_box_at_1e19_shows_the_image_and_says_what_was_left_out(server, sql):
    tid = find_task(sql, server, "ostatus = 'completed' AND type = 'imageannotation' AND project = 'Street Scenes'")
    response = api_get(server, tid)["response"]
    anns = list(response["annotations"])
    response = {**response, "annotations": [*anns, _box("far", left=1e19), _box("wide", width=1e300)]}
    set_doc_field(server, tid, "response", response)
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, tid)
        assert preview.state == "image", preview.message
        await wait_for(pilot, lambda: "2 annotations could not be drawn: coordinates out of range"
                       in screen_text(app), what="the legend's note")
        assert app.is_running


async def test_lidar_task_with_cuboids_at_1e308_still_plots(server, sql):
    tid = find_task(sql, server, "ostatus = 'completed' AND type = 'lidarannotation'")
    response = api_get(server, tid)["response"]
    bad = {"label": "far", "position": {"x": 1e308, "y": 1e308, "z": 0}, "dimensions": {"x": 1e308, "y": 1, "z": 1}}
    set_doc_field(server, tid, "response", {**response, "annotations": [*response["annotations"], bad]})
    app = DetailHost(server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, tid)
        assert preview.state == "pointcloud", preview.message
        await wait_for(pilot, lambda: "1 cuboid could not be drawn" in screen_text(app), what="the legend's note")
        assert "From above" in screen_text(app)
