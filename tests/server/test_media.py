"""Media the server generates: images whose objects line up with the response's
annotations, point clouds whose cuboids enclose points, text; auth and no traversal."""

from __future__ import annotations

import io
import math

import httpx
import orjson
import pytest
from PIL import Image

from tasktui.server.content import LABEL_COLORS


@pytest.fixture(scope="module")
def c(shared_server, api_key):
    with httpx.Client(base_url=shared_server.origin, auth=(api_key, ""), timeout=30) as client:
        yield client


def first(c, **params) -> dict:
    docs = c.get("/v1/tasks", params={"limit": 20, **params}).json()["docs"]
    assert docs
    return docs[0]


def image(c, url: str) -> Image.Image:
    r = c.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(r.content)).convert("RGB")


def test_attachment_is_an_absolute_url_to_this_server(c, shared_server):
    t = first(c, project="Street Scenes")
    assert t["params"]["attachment"].startswith(shared_server.origin + "/v1/media/" + t["task_id"] + "/")
    # the stored document keeps only the path
    assert t["params"]["attachment_type"] == "image"


def test_boxes_line_up_with_the_picture(c):
    t = first(c, project="Street Scenes", status="completed", customer_review_status="accepted")
    img = image(c, t["params"]["attachment"])
    anns = t["response"]["annotations"]
    assert anns
    last = anns[-1]  # drawn last, nothing covers it
    cx, cy = last["left"] + last["width"] // 2, last["top"] + last["height"] // 2
    assert img.getpixel((cx, cy)) == LABEL_COLORS[last["label"]]
    for a in anns:
        inside = [img.getpixel((x, y)) for x in range(a["left"] + 2, a["left"] + a["width"] - 2, 5)
                  for y in range(a["top"] + 2, a["top"] + a["height"] - 2, 5)]
        object_colors = set(LABEL_COLORS.values())
        assert sum(p in object_colors for p in inside) / len(inside) > 0.95
    # just outside the box, where no other box lies, there is background, not this object
    cx, cy = last["left"] + last["width"] // 2, last["top"] + last["height"] // 2
    sides = [(last["left"] - 3, cy), (last["left"] + last["width"] + 3, cy),
             (cx, last["top"] - 3), (cx, last["top"] + last["height"] + 3)]

    def in_other_box(x: int, y: int) -> bool:
        return any(a is not last and a["left"] - 3 <= x <= a["left"] + a["width"] + 3
                   and a["top"] - 3 <= y <= a["top"] + a["height"] + 3 for a in anns)

    free = [(x, y) for x, y in sides
            if 0 <= x < img.width and 0 <= y < img.height and not in_other_box(x, y)]
    assert free, "the seed's last box has a side clear of other boxes"
    assert all(img.getpixel(p) != LABEL_COLORS[last["label"]] for p in free), free


def test_polygons_line_up_with_the_picture(c):
    t = first(c, project="Retail Shelves", status="completed", customer_review_status="pending")
    img = image(c, t["params"]["attachment"])
    last = t["response"]["annotations"][-1]
    xs = [v["x"] for v in last["vertices"]]
    ys = [v["y"] for v in last["vertices"]]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    assert img.getpixel((round(cx), round(cy))) == LABEL_COLORS[last["label"]]


def test_annotated_image_draws_the_current_response(c):
    t = first(c, project="Street Scenes", status="completed", customer_review_status="fixed")
    url = t["params"]["attachment"].replace("image.png", "annotated.png")
    plain, drawn = image(c, t["params"]["attachment"]), image(c, url)
    a = t["response"]["annotations"][0]
    assert drawn.getpixel((a["left"], a["top"] + a["height"] // 2)) == (255, 255, 0)
    assert plain.size == drawn.size == (640, 400)


def test_point_cloud_cuboids_enclose_points(c):
    t = first(c, project="Lidar Highway", status="completed")
    r = c.get(t["params"]["attachment"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    cloud = r.json()
    assert cloud["format"] == "tasktui-pointcloud/1"
    pts = cloud["points"]
    assert len(pts) > 1000 and all(len(p) == 3 for p in pts)
    for cub in t["response"]["annotations"]:
        px, py, pz = (cub["position"][k] for k in "xyz")
        dx, dy, dz = (cub["dimensions"][k] for k in "xyz")
        cy_, sy_ = math.cos(-cub["yaw"]), math.sin(-cub["yaw"])

        def inside(p):
            x, y = p[0] - px, p[1] - py
            u, v = x * cy_ - y * sy_, x * sy_ + y * cy_
            return abs(u) <= dx / 2 + 0.05 and abs(v) <= dy / 2 + 0.05 and abs(p[2] - pz) <= dz / 2 + 0.05
        assert sum(1 for p in pts if inside(p)) > 100


def test_text_media(c):
    t = first(c, project="Product Reviews")
    r = c.get(t["params"]["attachment"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain") and r.text.strip()


def test_media_is_deterministic(c):
    t = first(c, project="Street Scenes")
    assert c.get(t["params"]["attachment"]).content == c.get(t["params"]["attachment"]).content


@pytest.mark.parametrize("path", [
    "/v1/media/{id}/../../../../etc/passwd",
    "/v1/media/{id}/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/v1/media/{id}/..%2F..%2Fserver.db",
    "/v1/media/{id}/image.png%00.txt",
    "/v1/media/{id}/pointcloud.json",
    "/v1/media/{id}/annotated.png",
    "/v1/media/..%2F..%2Fetc/passwd",
    "/v1/media/0123456789abcdef01234567/image.png",
])
def test_no_traversal_and_only_known_names(c, path):
    t = first(c, project="Support Tickets", status="pending")  # a text task: no image, no cloud
    r = c.get(path.replace("{id}", t["task_id"]))
    assert r.status_code == 404
    assert "root:" not in r.text and "SQLite" not in r.text


def test_media_needs_the_key(c, shared_server):
    t = first(c, project="Street Scenes")
    assert httpx.get(t["params"]["attachment"]).status_code == 401
    assert httpx.get(t["params"]["attachment"], auth=("nope", "")).status_code == 401


def test_stored_attachment_is_relative(shared_server, sql):
    doc = orjson.loads(sql(shared_server, "SELECT doc FROM docs LIMIT 1")[0][0])
    assert doc["params"]["attachment"].startswith("/v1/media/")
