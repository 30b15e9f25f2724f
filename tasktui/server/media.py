"""Media the server generates itself, lazily and deterministically from a task's seed:

- ``image.png``: the attachment of image tasks (640x400 PNG; objects drawn from the same
  seeded shapes that make up a completed task's ``response`` annotations, so boxes and
  polygons line up with what is in the picture); receipts for transcription tasks.
- ``annotated.png``: the same image with the task's *current* response drawn on top
  (boxes / polygons with labels), for completed image tasks; coordinates past the picture
  are clamped and annotations that cannot be drawn are skipped and counted in a legend.
- ``pointcloud.json``: a lidar frame ``{"format": "tasktui-pointcloud/1", "points": [[x, y, z], ...], ...}``.
- ``text.txt``: the text of text tasks (UTF-8).

Names are a fixed set and nothing touches the file system, so no path can escape.
"""

from __future__ import annotations

import io
import math
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


#: At most this many annotations, and this many vertices per polygon, are drawn: the rest
#: are counted in the legend (polygons with more vertices are drawn from every n-th one).
MAX_ANNOTATIONS = 1000
MAX_VERTICES = 2000
#: Coordinates are clamped to this far outside the picture: anything beyond is invisible
#: anyway, and drawing a line a billion pixels long would take minutes.
_MARGIN = 64
_YELLOW = (255, 255, 0)


def _coord(value: Any) -> float | None:
    """A finite coordinate, or None (NaN, infinite, not a number, a string that is not one)."""
    if isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if math.isfinite(f) else None


def _clamp(x: float, size: int) -> float:
    return min(max(x, -_MARGIN), size + _MARGIN)


def _box(a: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """The box of an annotation in picture coordinates, clamped; None when it has no
    finite corner or lies wholly off the picture."""
    x0, y0, w, h = (_coord(a.get(k)) for k in ("left", "top", "width", "height"))
    if x0 is None or y0 is None or w is None or h is None:
        return None
    x1, y1 = x0 + w, y0 + h
    if not (math.isfinite(x1) and math.isfinite(y1)):
        return None
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    if x1 < 0 or y1 < 0 or x0 > IMAGE_W or y0 > IMAGE_H:
        return None
    return _clamp(x0, IMAGE_W), _clamp(y0, IMAGE_H), _clamp(x1, IMAGE_W), _clamp(y1, IMAGE_H)


def _polygon(vertices: list[Any]) -> list[tuple[float, float]] | None:
    """The vertices of a polygon (every n-th past MAX_VERTICES), clamped; None when one of
    them is not a finite point or all lie on one side off the picture."""
    step = max(1, math.ceil(len(vertices) / MAX_VERTICES))
    pts = []
    for v in vertices[::step]:
        if not isinstance(v, dict):
            return None
        x, y = _coord(v.get("x")), _coord(v.get("y"))
        if x is None or y is None:
            return None
        pts.append((x, y))
    if len(pts) < 2:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if max(xs) < 0 or max(ys) < 0 or min(xs) > IMAGE_W or min(ys) > IMAGE_H:
        return None
    return [(_clamp(x, IMAGE_W), _clamp(y, IMAGE_H)) for x, y in pts]


def _label_at(d: ImageDraw.ImageDraw, x: float, y: float, label: str) -> None:
    d.text((min(max(x + 2, 0), IMAGE_W - 40), min(max(y - 12, 0), IMAGE_H - 12)), label, fill=_YELLOW)


@lru_cache(maxsize=32)
def _annotated_png(kind: str, seed: int, response: bytes) -> bytes:
    """The picture with the response's boxes or polygons drawn on it. Whatever cannot be
    drawn (not numbers, NaN, infinite, wholly off the picture, past MAX_ANNOTATIONS) is
    skipped and counted in a legend; huge coordinates are clamped. Bounded time."""
    img = _base_image(kind, seed)
    d = ImageDraw.Draw(img)
    anns = orjson.loads(response).get("annotations")
    anns = anns if isinstance(anns, list) else []
    skipped = max(0, len(anns) - MAX_ANNOTATIONS)
    for a in anns[:MAX_ANNOTATIONS]:
        if not isinstance(a, dict):
            skipped += 1
            continue
        label = str(a.get("label", ""))[:40]
        if isinstance(a.get("vertices"), list):
            pts = _polygon(a["vertices"])
            if pts is None:
                skipped += 1
                continue
            d.line([*pts, pts[0]], fill=_YELLOW, width=2)
            _label_at(d, pts[0][0], pts[0][1], label)
        else:
            box = _box(a)
            if box is None:
                skipped += 1
                continue
            d.rectangle(box, outline=_YELLOW, width=2)
            _label_at(d, box[0], box[1], label)
    if skipped:
        note = f"{skipped:,} annotation{'s' if skipped != 1 else ''} not drawn (off the picture or not numbers)"
        d.rectangle((0, IMAGE_H - 18, IMAGE_W, IMAGE_H), fill=(0, 0, 0))
        d.text((4, IMAGE_H - 15), note, fill=_YELLOW)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@lru_cache(maxsize=64)
def _cloud(seed: int) -> bytes:
    return orjson.dumps(point_cloud(seed))
