"""Media the server generates itself, lazily and deterministically from a task's seed:

- ``image.png``: the attachment of image tasks (640x400 PNG; objects drawn from the same
  seeded shapes that make up a completed task's ``response`` annotations, so boxes and
  polygons line up with what is in the picture); receipts for transcription tasks.
- ``annotated.png``: the same image with the task's *current* response drawn on top
  (boxes / polygons with labels), for completed image tasks.
- ``pointcloud.json``: a lidar frame ``{"format": "tasktui-pointcloud/1", "points": [[x, y, z], ...], ...}``.
- ``text.txt``: the text of text tasks (UTF-8).

Names are a fixed set and nothing touches the file system, so no path can escape.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import orjson
from PIL import Image, ImageDraw

from tasktui.server.content import (
    IMAGE_H,
    IMAGE_W,
    LABEL_COLORS,
    MEDIA_NAME,
    PROJECT_BY_NAME,
    content,
    point_cloud,
    text_media,
)
from tasktui.server.docs import materialize
from tasktui.server.errors import NotFound

_BACKGROUNDS = [((118, 140, 160), (70, 70, 75)), ((200, 190, 170), (150, 140, 120)),
                ((90, 110, 130), (40, 45, 50)), ((230, 230, 235), (180, 180, 190))]


def _not_found(doc: dict[str, Any], name: str) -> NotFound:
    return NotFound(f"task {doc.get('task_id')} has no media named {name[:80]!r}")


def render(doc: dict[str, Any], name: str) -> tuple[bytes, str]:
    project = PROJECT_BY_NAME.get(doc.get("project") or "")
    seed = doc.get("_seed")
    if project is None or not isinstance(seed, int):
        raise _not_found(doc, name)
    kind = project["kind"]
    base = MEDIA_NAME[kind]
    if name == base:
        if base == "image.png":
            return _image_png(kind, seed), "image/png"
        if base == "pointcloud.json":
            return _cloud(seed), "application/json"
        return text_media(project, seed).encode(), "text/plain; charset=utf-8"
    if name == "annotated.png" and kind in ("boxes", "polygons"):
        resp = materialize(dict(doc)).get("response")
        if not isinstance(resp, dict):
            raise NotFound(f"task {doc.get('task_id')} has no response to draw yet")
        return _annotated_png(kind, seed, orjson.dumps(resp)), "image/png"
    raise _not_found(doc, name)


def _base_image(kind: str, seed: int) -> Image.Image:
    c = content(kind, seed)
    img = Image.new("RGB", (IMAGE_W, IMAGE_H), (0, 0, 0))
    d = ImageDraw.Draw(img)
    if kind == "ocr":
        img.paste((245, 243, 235), (0, 0, IMAGE_W, IMAGE_H))
        d.rectangle((150, 10, 490, 390), fill=(255, 255, 255), outline=(200, 200, 200))
        for k, line in enumerate(c["lines"]):
            d.text((170, 30 + k * 36), line, fill=(20, 20, 20), font_size=20)
        return img
    top, bottom = _BACKGROUNDS[c["background"] % len(_BACKGROUNDS)]
    horizon = IMAGE_H * 2 // 5
    d.rectangle((0, 0, IMAGE_W, horizon), fill=top)
    d.rectangle((0, horizon, IMAGE_W, IMAGE_H), fill=bottom)
    for s in c["shapes"]:
        color = LABEL_COLORS.get(s["label"], (200, 200, 200))
        if kind == "polygons":
            d.polygon([(v["x"], v["y"]) for v in s["vertices"]], fill=color, outline=(20, 20, 20))
        else:
            x0, y0 = s["left"], s["top"]
            d.rectangle((x0, y0, x0 + s["width"] - 1, y0 + s["height"] - 1), fill=color, outline=(20, 20, 20))
    return img


@lru_cache(maxsize=128)
def _image_png(kind: str, seed: int) -> bytes:
    buf = io.BytesIO()
    _base_image(kind, seed).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


@lru_cache(maxsize=32)
def _annotated_png(kind: str, seed: int, response: bytes) -> bytes:
    img = _base_image(kind, seed)
    d = ImageDraw.Draw(img)
    for a in orjson.loads(response).get("annotations") or []:
        if not isinstance(a, dict):
            continue
        label = str(a.get("label", ""))[:40]
        try:
            if isinstance(a.get("vertices"), list):
                pts = [(float(v["x"]), float(v["y"])) for v in a["vertices"]]
                if len(pts) >= 2:
                    d.line([*pts, pts[0]], fill=(255, 255, 0), width=2)
                    d.text((pts[0][0] + 2, pts[0][1] - 12), label, fill=(255, 255, 0))
            else:
                x0, y0 = float(a["left"]), float(a["top"])
                x1, y1 = x0 + float(a["width"]), y0 + float(a["height"])
                d.rectangle((x0, y0, x1, y1), outline=(255, 255, 0), width=2)
                d.text((x0 + 2, y0 - 12), label, fill=(255, 255, 0))
        except (KeyError, TypeError, ValueError):
            continue
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@lru_cache(maxsize=64)
def _cloud(seed: int) -> bytes:
    return orjson.dumps(point_cloud(seed))
