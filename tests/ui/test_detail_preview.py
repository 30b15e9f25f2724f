"""The Preview tab: images with annotations, point clouds from above and the side, text,
and media that cannot be drawn."""

from __future__ import annotations

import httpx
from PIL import Image

from tasktui.ui.widgets.preview import MediaPreview, annotate_image, annotation_legend, parse_point_cloud

from .support import DetailHost, api_get, find_task, screen_text, open_preview, wait_for, wait_loaded


def test_annotations_are_drawn_over_the_image():
    img = Image.new("RGB", (200, 100), (0, 0, 0))
    response = {"annotations": [
        {"label": "car", "left": 10, "top": 10, "width": 50, "height": 40},
        {"label": "can", "vertices": [{"x": 120, "y": 20}, {"x": 180, "y": 20}, {"x": 150, "y": 80}]},
        {"label": "junk", "left": "x"},
    ]}
    out, legend = annotate_image(img, response)
    assert [(label, n) for label, _c, n in legend] == [("car", 1), ("can", 1)]
    assert out.getpixel((10, 30)) == (220, 60, 60)  # the box's left edge in the car colour
    assert out.getpixel((35, 30)) == (0, 0, 0)  # inside the box untouched
    small, _ = annotate_image(img, response, target=(40, 20))
    assert small.size == (40, 20)
    assert annotation_legend(response) == legend


def test_point_cloud_formats():
    a = parse_point_cloud(b'{"points": [[1, 2, 3], [4, 5, 6, 0.5]]}')
    assert (a.xs, a.ys, a.zs, a.total) == ([1, 4], [2, 5], [3, 6], 2)
    b = parse_point_cloud(b'[{"x": 1, "y": 2, "z": 3, "i": 9}]')
    assert (b.xs, b.ys, b.zs) == ([1], [2], [3])
    import pytest
    from tasktui.ui.widgets.preview import PointCloudError
    with pytest.raises(PointCloudError, match="not JSON"):
        parse_point_cloud(b"\x00\x01")
    with pytest.raises(PointCloudError, match="no points"):
        parse_point_cloud(b'{"points": [["a"]]}')


async def test_completed_image_task_shows_the_annotated_image(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND type = 'imageannotation' AND project = 'Street Scenes'")
    doc = api_get(shared_server, tid)
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, tid)
        assert preview.state == "image", preview.message
        text = screen_text(app)
        n = len(doc["response"]["annotations"])
        assert f"image.png · 640×400 · {n} annotation{'s' if n != 1 else ''} drawn" in text
        for a in doc["response"]["annotations"]:
            assert a["label"] in text  # the legend
        assert text.count("▀") > 500  # the half-block image


async def test_lidar_task_shows_top_and_side_views(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'completed' AND type = 'lidarannotation'")
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, tid)
        assert preview.state == "pointcloud", preview.message
        text = screen_text(app)
        assert "From above" in text and "From the side" in text
        assert "6,000 points" in text
        braille = sum(1 for ch in text if 0x2801 <= ord(ch) <= 0x28FF)
        assert braille > 300


async def test_text_task_shows_its_text(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'queued' AND type = 'categorization'")
    doc = api_get(shared_server, tid)
    media = httpx.get(doc["params"]["attachment"], auth=(shared_server.api_key, "")).text
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, tid)
        assert preview.state == "text"
        await wait_for(pilot, lambda: media.strip()[:60] in screen_text(app).replace("\n", " "))


async def test_pending_image_shows_the_original(shared_server, sql):
    tid = find_task(sql, shared_server, "ostatus = 'queued' AND type = 'imageannotation'")
    app = DetailHost(shared_server, tid)
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, tid)
        assert preview.state == "image"
        await wait_for(pilot, lambda: "original attachment (the task is not completed)" in screen_text(app))


async def test_media_that_cannot_be_drawn_says_why_and_u_copies_the_url(server, monkeypatch):
    monkeypatch.setenv("TASKTUI_CLIPBOARD", "off")
    url = "https://media.invalid/clip.mp4"
    r = httpx.post(f"{server.url}/task/videoannotation", auth=(server.api_key, ""),
                   json={"instruction": "x", "attachment": url, "attachment_type": "video"})
    r.raise_for_status()
    video = r.json()["task_id"]
    r = httpx.post(f"{server.url}/task/imageannotation", auth=(server.api_key, ""),
                   json={"instruction": "x", "attachment": "http://127.0.0.1:9/none.png", "attachment_type": "image"})
    r.raise_for_status()
    unreachable = r.json()["task_id"]
    app = DetailHost(server, video, task_ids=[video, unreachable])
    async with app.run_test(size=(120, 40)) as pilot:
        _detail, preview = await open_preview(pilot, app, video)
        assert preview.state == "message"
        text = screen_text(app)
        assert "attachment is of type 'video', which cannot be drawn in a terminal" in text
        assert "Press u to copy its URL." in text
        await pilot.press("u")
        assert app.clipboard == url

        await pilot.press("n")  # the next task keeps the Preview tab
        await wait_loaded(pilot, app, unreachable)
        await wait_for(pilot, lambda: preview.state == "message" and "could not be fetched" in preview.message,
                       what="fetch failure message")
        assert preview.message.endswith("Press u to copy its URL.")
        flat = " ".join(screen_text(app).split())
        assert " ".join(preview.message.split()) in flat, preview.message
