"""Media preview: the task's attachment drawn in the terminal.

:class:`MediaPreview` is fed a :class:`~tasktui.domain.Task` and an async ``fetch(url)``
(the store's / client's ``fetch_attachment``, returning an object with ``content`` and
``content_type``, or bytes). It fetches in a worker (the UI never waits) and shows:

- **images** (``attachment_type`` ``image`` or an image content type) with textual-image:
  the Kitty graphics protocol or Sixel where the terminal supports them, Unicode
  half-blocks everywhere else. For completed tasks the response's annotations (boxes
  ``left/top/width/height`` and polygons ``vertices``) are drawn over the image with
  Pillow, with a legend of labels. With half-blocks the annotations are drawn at the
  terminal's resolution so the lines stay crisp. Drawing happens in worker threads;
  annotations with a coordinate beyond ``MAX_COORD`` or not finite are left out and the
  legend says how many, and boxes are clipped to the image (drawing time would grow with
  their size).
- **point clouds** (``pointcloud`` / ``lidar``; ``points`` as ``[x, y, z]`` lists or
  ``{"x":..,"y":..,"z":..}`` objects) as two textual-plot braille scatter plots, from
  above (x, y) and from the side (x, z), coloured by height, with the response's
  cuboids outlined; equal scales on both axes. Points and cuboids out of range are
  left out and counted the same way. Braille plots were chosen over a
  Pillow raster because points stay sharp at terminal resolution, the axes are
  labelled, and the result is the same on every terminal.
- **text** (``text`` or a ``text/*`` content type): the text, control characters made
  visible (see :mod:`tasktui.ui.safe`).
- anything else: a sentence saying why it cannot be drawn; the detail screen's ``u``
  copies the URL.

The image renderer is picked once per process: ``TASKTUI_IMAGE_RENDERER`` = ``auto``
(default), ``kitty`` / ``tgp``, ``sixel``, ``halfcell`` or ``unicode``; tests call
:func:`set_image_renderer("halfcell")` for deterministic output.

``auto`` is what the terminal said before the app started (:mod:`tasktui.ui.graphics`:
the ``tui`` command asks it in one round trip before ``App.run``); textual-image is imported
with this module, when the first preview opens, and asks the terminal nothing itself.
"""

from __future__ import annotations

import asyncio
import codecs
import io
import json
import math
import os
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

from PIL import Image as PILImage
from PIL import ImageDraw
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from textual_plot import HiResMode, PlotWidget

from tasktui.domain import Task
from tasktui.ui.graphics import auto_renderer, import_textual_image
from tasktui.ui.safe import clean, one_line

__all__ = [
    "MediaPreview",
    "PointCloud",
    "annotate_image",
    "annotation_legend",
    "cloud_bounds",
    "image_renderer",
    "parse_point_cloud",
    "plan_annotations",
    "plan_cuboids",
    "set_image_renderer",
    "text_preview",
]

Fetch = Callable[[str], Awaitable[Any]]

MAX_TEXT_BYTES = 64_000  # of a text attachment shown (laid out on the UI thread)
MAX_POINTS = 20_000
MAX_IMAGE_SIDE = 2400
MAX_GROUND_TOP = 800  # ground points drawn in the top view  # larger images are downscaled before display
#: largest coordinate (pixels for images, metres for point clouds) that is drawn; anything
#: beyond it, or not finite, is left out and counted in the legend (Pillow and the plots
#: overflow, or draw for minutes, on coordinates such as 1e19 or 1e300)
MAX_COORD = 1e6

PALETTE = [
    (230, 60, 60), (60, 160, 235), (245, 200, 40), (70, 200, 100), (235, 120, 30),
    (200, 90, 220), (60, 210, 210), (250, 140, 170), (160, 220, 60), (180, 180, 255),
]
_LABEL_COLORS = {
    "car": (220, 60, 60), "pedestrian": (60, 160, 230), "cyclist": (240, 200, 40),
    "bus": (230, 120, 30), "traffic light": (60, 200, 90), "bottle": (90, 170, 220),
    "box": (200, 150, 90), "can": (210, 70, 160), "price tag": (250, 230, 120),
    "truck": (235, 120, 30), "motorcycle": (60, 160, 235),
}

ti_widget = import_textual_image()
_RENDERERS = {
    "kitty": ti_widget.TGPImage,
    "tgp": ti_widget.TGPImage,
    "sixel": ti_widget.SixelImage,
    "halfcell": ti_widget.HalfcellImage,
    "unicode": ti_widget.UnicodeImage,
    "auto": ti_widget.UnicodeImage,  # replaced by what the terminal said: see image_renderer()
}
_renderer_override: str | None = None


def set_image_renderer(name: str | None) -> None:
    """Force an image renderer (``halfcell`` in tests); None returns to the default."""
    global _renderer_override
    if name is not None and name not in _RENDERERS:
        raise ValueError(f"unknown image renderer {name!r}; choose from {', '.join(_RENDERERS)}")
    _renderer_override = name


def image_renderer() -> str:
    name = _renderer_override or os.environ.get("TASKTUI_IMAGE_RENDERER", "auto").strip().lower()
    if name not in _RENDERERS:
        name = "auto"
    if name == "auto":
        return auto_renderer()
    return name


def _label_color(label: str, index: int) -> tuple[int, int, int]:
    return _LABEL_COLORS.get(label.lower(), PALETTE[index % len(PALETTE)])


def _hex(c: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


# --------------------------------------------------------------------------- images
def _annotations(response: Any) -> list[dict[str, Any]]:
    if not isinstance(response, dict):
        return []
    anns = response.get("annotations")
    return [a for a in anns if isinstance(a, dict)] if isinstance(anns, list) else []


def _num(v: Any) -> float | None:
    """A number as a float (bools, text, None: None). Non-finite values are kept: the
    callers count them as out of range."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return float(v)
    except OverflowError:  # an int beyond the float range
        return math.inf


def _in_range(*values: float) -> bool:
    return all(math.isfinite(v) and abs(v) <= MAX_COORD for v in values)


class _OutOfRange(Exception):
    pass


def _shape(a: dict[str, Any]) -> tuple[str, list[tuple[float, float]]] | None:
    """("box" | "polygon", points) of an annotation, or None if it has no 2D geometry.
    Raises _OutOfRange when its geometry holds a coordinate that cannot be drawn."""
    verts = a.get("vertices")
    if isinstance(verts, list) and len(verts) >= 2:
        pts = []
        for v in verts:
            if isinstance(v, dict):
                x, y = _num(v.get("x")), _num(v.get("y"))
            elif isinstance(v, (list, tuple)) and len(v) >= 2:
                x, y = _num(v[0]), _num(v[1])
            else:
                x = y = None
            if x is not None and y is not None:
                if not _in_range(x, y):
                    raise _OutOfRange
                pts.append((x, y))
        if len(pts) >= 2:
            return "polygon", pts
    left, top, w, h = (_num(a.get(k)) for k in ("left", "top", "width", "height"))
    if left is not None and top is not None and w is not None and h is not None:
        if not _in_range(left, top, w, h, left + w, top + h):
            raise _OutOfRange
        return "box", [(left, top), (left + w, top + h)]
    return None


def _undrawable(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' if n != 1 else ''} could not be drawn: coordinates out of range" if n else ""


@dataclass
class AnnotationPlan:
    """What of a response's annotations can be drawn: ``shapes`` ``[(label, kind,
    points)]``, the ``legend`` ``[(label, rgb, count)]`` and how many were ``skipped``
    because a coordinate is out of range."""

    shapes: list[tuple[str, str, list[tuple[float, float]]]]
    legend: list[tuple[str, tuple[int, int, int], int]]
    skipped: int

    def note(self) -> str:
        """"2 annotations could not be drawn: coordinates out of range", or ""."""
        return _undrawable(self.skipped, "annotation")


def plan_annotations(response: Any) -> AnnotationPlan:
    """The response's drawable annotations, their legend and the count of those left out."""
    legend: dict[str, list[Any]] = {}
    shapes: list[tuple[str, str, list[tuple[float, float]]]] = []
    skipped = 0
    for a in _annotations(response):
        try:
            shape = _shape(a)
        except _OutOfRange:
            skipped += 1
            continue
        if shape is None:
            continue
        label = one_line(a.get("label", ""), 40) or "(no label)"
        if label not in legend:
            legend[label] = [_label_color(label, len(legend)), 0]
        legend[label][1] += 1
        shapes.append((label, *shape))
    return AnnotationPlan(shapes, [(k, v[0], v[1]) for k, v in legend.items()], skipped)


def annotate_image(
    image: PILImage.Image, response: Any, *, target: tuple[int, int] | None = None
) -> tuple[PILImage.Image, list[tuple[str, tuple[int, int, int], int]]]:
    """The image with the response's boxes and polygons drawn over it, and the legend
    ``[(label, rgb, count)]``. With ``target`` (pixels) the image is first scaled to fit
    it and lines are one pixel wide (for half-block rendering). Annotations out of range
    are left out (:func:`plan_annotations`); boxes are clipped to just outside the image,
    so that the time to draw does not grow with their size. Slow on big images: call it
    in a worker thread."""
    img = image.convert("RGB")
    sx = sy = 1.0
    if target is not None:
        tw, th = max(1, target[0]), max(1, target[1])
        scale = min(tw / img.width, th / img.height)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        sx, sy = size[0] / img.width, size[1] / img.height
        img = img.resize(size, PILImage.Resampling.LANCZOS)
        width = 1
    else:
        width = max(2, round(max(img.width, img.height) / 250))
    draw = ImageDraw.Draw(img)
    plan = plan_annotations(response)
    colors = {label: color for label, color, _n in plan.legend}
    pad = width + 1

    def clip_x(x: float) -> float:
        return min(max(x, -pad), img.width + pad)

    def clip_y(y: float) -> float:
        return min(max(y, -pad), img.height + pad)

    for label, kind, pts in plan.shapes:
        color = colors[label]
        pts = [(x * sx, y * sy) for x, y in pts]
        if kind == "box":
            (x0, y0), (x1, y1) = pts
            draw.rectangle([clip_x(min(x0, x1)), clip_y(min(y0, y1)), clip_x(max(x0, x1)), clip_y(max(y0, y1))],
                           outline=color, width=width)
        else:
            draw.line([*pts, pts[0]], fill=color, width=width, joint="curve")
        if target is None:
            tx, ty = clip_x(min(p[0] for p in pts)), clip_y(min(p[1] for p in pts))
            tb = draw.textbbox((tx, ty), label)
            th_ = tb[3] - tb[1] + 2
            box = (tx, max(0, ty - th_), tx + (tb[2] - tb[0]) + 4, max(th_, ty))
            draw.rectangle(box, fill=color)
            draw.text((box[0] + 2, box[1]), label, fill=(0, 0, 0))
    return img, plan.legend


def annotation_legend(response: Any) -> list[tuple[str, tuple[int, int, int], int]]:
    """``[(label, rgb, count)]`` of the response's drawable annotations, in order."""
    return plan_annotations(response).legend


def _legend_text(legend: Sequence[tuple[str, tuple[int, int, int], int]]) -> Text:
    t = Text()
    for i, (label, color, count) in enumerate(legend):
        if i:
            t.append("  ")
        t.append("■ ", style=_hex(color))
        t.append(label)
        if count > 1:
            t.append(f" ×{count}", style="dim")
    return t


class AnnotatedImage(Widget):
    """An image (with annotations drawn over it) fitted into the widget. The drawing is
    done in a worker thread, never on the UI thread: give ``drawn`` (the image already
    annotated at full size, for the Kitty / Sixel renderers) or nothing (half-blocks:
    the annotations are drawn at the cell grid's resolution on each resize)."""

    DEFAULT_CSS = """
    AnnotatedImage {
        width: 1fr;
        height: 1fr;
    }
    AnnotatedImage > .image {
        width: auto;
        height: auto;
        max-width: 100%;
        max-height: 100%;
    }
    """

    def __init__(self, image: PILImage.Image, response: Any, *, drawn: PILImage.Image | None = None,
                 renderer: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._source = image
        self._response = response
        self._renderer = renderer or image_renderer()
        self._cls = _RENDERERS[self._renderer]
        self._last_target: tuple[int, int] | None = None
        self._image = None if self.by_cells(self._renderer) else drawn

    @staticmethod
    def by_cells(renderer: str) -> bool:
        """Whether ``renderer`` draws to the cell grid (the annotations are drawn per size)."""
        return renderer in ("halfcell", "unicode")

    def compose(self) -> ComposeResult:
        widget = self._cls(self._image, classes="image")
        yield widget

    def on_resize(self) -> None:
        if not self.by_cells(self._renderer):
            return
        w, h = self.content_size
        if w <= 0 or h <= 0:
            return
        target = (w, h * 2) if self._renderer == "halfcell" else (w * 2, h * 4)
        if target == self._last_target:
            return
        self._last_target = target
        self._draw(target)

    @work(exclusive=True, group="annotate")
    async def _draw(self, target: tuple[int, int]) -> None:
        img, _legend = await asyncio.to_thread(annotate_image, self._source, self._response, target=target)
        if target == self._last_target:
            child = self.query_one(".image")
            child.image = img  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- point clouds
@dataclass
class PointCloud:
    xs: list[float]
    ys: list[float]
    zs: list[float]
    total: int  # points in the file (before subsampling)
    skipped: int = 0  # points read but left out: a coordinate out of range


class PointCloudError(ValueError):
    pass


def parse_point_cloud(data: bytes) -> PointCloud:
    """Read a lidar frame: JSON with ``points`` (``[x, y, z, ...]`` lists or
    ``{"x", "y", "z"}`` objects), or a bare list of such points. Keeps at most
    MAX_POINTS (evenly subsampled). Raises PointCloudError with a sentence."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise PointCloudError(f"the point cloud is not JSON ({e})") from None
    pts = doc.get("points") if isinstance(doc, dict) else doc
    if not isinstance(pts, list):
        raise PointCloudError("the point cloud has no list of points")
    step = max(1, math.ceil(len(pts) / MAX_POINTS))
    xs: list[float] = []
    ys: list[float] = []
    zs: list[float] = []
    skipped = 0
    for p in pts[::step]:
        if isinstance(p, dict):
            x, y, z = _num(p.get("x")), _num(p.get("y")), _num(p.get("z"))
        elif isinstance(p, (list, tuple)) and len(p) >= 3:
            x, y, z = _num(p[0]), _num(p[1]), _num(p[2])
        else:
            continue
        if x is None or y is None or z is None:
            continue
        if not _in_range(x, y, z):
            skipped += 1
            continue
        xs.append(x)
        ys.append(y)
        zs.append(z)
    if not xs:
        if skipped:
            raise PointCloudError(f"all of its points have coordinates out of range (beyond {MAX_COORD:g} m)")
        raise PointCloudError("the point cloud has no points with x, y and z")
    return PointCloud(xs, ys, zs, len(pts), skipped)


def cloud_bounds(values: Sequence[float], pad: float = 0.5) -> tuple[float, float]:
    """The plotted range of one axis: the values' range, padded."""
    return min(values) - pad, max(values) + pad


_HEIGHT_BANDS = [  # (upper bound of z in m, colour, name)
    (0.3, "#6c7a89", "ground"),
    (1.0, "#3fb6dc", "< 1 m"),
    (2.0, "#7bd88f", "1–2 m"),
    (math.inf, "#f4c542", "> 2 m"),
]


Cuboid = tuple[str, list[tuple[float, float]], tuple[float, float, float, float]]


def plan_cuboids(response: Any) -> tuple[list[Cuboid], int]:
    """(label, top-view corners, (xmin, xmax, zmin, zmax)) of the response's cuboids, and
    how many were left out because a position, size or yaw is out of range."""
    out: list[Cuboid] = []
    skipped = 0
    for a in _annotations(response):
        pos, dim = a.get("position"), a.get("dimensions")
        if not isinstance(pos, dict) or not isinstance(dim, dict):
            continue
        px, py, pz = (_num(pos.get(k)) for k in "xyz")
        dx, dy, dz = (_num(dim.get(k)) for k in "xyz")
        if px is None or py is None or pz is None or dx is None or dy is None or dz is None:
            continue
        yaw = _num(a.get("yaw"))
        if not _in_range(px, py, pz, dx, dy, dz, yaw if yaw is not None else 0.0):
            skipped += 1
            continue
        c, s = math.cos(yaw or 0.0), math.sin(yaw or 0.0)
        corners = []
        for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)):
            hx, hy = u * dx / 2, v * dy / 2
            corners.append((px + hx * c - hy * s, py + hx * s + hy * c))
        xs = [p[0] for p in corners]
        out.append((one_line(a.get("label", ""), 30) or "(no label)", corners,
                    (min(xs), max(xs), pz - dz / 2, pz + dz / 2)))
    return out, skipped


class CloudPlot(PlotWidget):
    """A braille scatter plot with equal scales on both axes."""

    DEFAULT_CSS = """
    CloudPlot {
        height: 1fr;
        width: 1fr;
    }
    """

    margin_top = reactive(0)
    margin_bottom = reactive(2)
    margin_left = reactive(6)

    def __init__(self, bounds: tuple[float, float, float, float], *, id: str | None = None) -> None:
        super().__init__(id=id, allow_pan_and_zoom=True)
        self._bounds = bounds

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        """Expand the shorter axis so that one metre is as long on both axes (a braille
        dot is about square: 2 dots per cell across, 4 down, cells twice as tall as wide)."""
        x0, x1, y0, y1 = self._bounds
        w = max(1, self.size.width - self.margin_left - 2)
        h = max(1, self.size.height - self.margin_top - self.margin_bottom - 2)
        xr, yr = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        per_x = xr / (w * 2)
        per_y = yr / (h * 4)
        if per_x > per_y:
            yr_new = per_x * h * 4
            cy = (y0 + y1) / 2
            y0, y1 = cy - yr_new / 2, cy + yr_new / 2
        else:
            xr_new = per_y * w * 2
            cx = (x0 + x1) / 2
            x0, x1 = cx - xr_new / 2, cx + xr_new / 2
        self.set_xlimits(x0, x1)
        self.set_ylimits(y0, y1)


class PointCloudView(Vertical):
    """Top and side views of a point cloud."""

    DEFAULT_CSS = """
    PointCloudView {
        height: 1fr;
        min-height: 26;
    }
    PointCloudView .view-title {
        height: 1;
        color: $text-muted;
    }
    PointCloudView #cloud-top {
        height: 2fr;
        min-height: 14;
    }
    PointCloudView #cloud-side {
        height: 1fr;
        min-height: 9;
    }
    """

    def __init__(self, cloud: PointCloud, response: Any, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cloud = cloud
        self.response = response
        self.cuboids, self.cuboids_skipped = plan_cuboids(response)

    def compose(self) -> ComposeResult:
        c = self.cloud
        xb = cloud_bounds(c.xs)
        yield Static(Text("From above — x forward →, y left ↑ (metres)"), classes="view-title")
        yield CloudPlot((*xb, *cloud_bounds(c.ys)), id="cloud-top")
        yield Static(Text("From the side — x forward →, z up ↑ (metres)"), classes="view-title")
        yield CloudPlot((*xb, *cloud_bounds(c.zs)), id="cloud-side")

    def on_mount(self) -> None:
        top = self.query_one("#cloud-top", CloudPlot)
        side = self.query_one("#cloud-side", CloudPlot)
        c = self.cloud
        lo = -math.inf
        for hi, color, _name in _HEIGHT_BANDS:
            idx = [i for i, z in enumerate(c.zs) if lo <= z < hi]
            first = lo == -math.inf
            lo = hi
            if not idx:
                continue
            xs = [c.xs[i] for i in idx]
            side.scatter(xs, [c.zs[i] for i in idx], marker_style=color, hires_mode=HiResMode.BRAILLE)
            if first and len(idx) > MAX_GROUND_TOP:
                # seen from above, dense ground returns would fill every dot and hide the
                # objects: draw an even sample of them
                idx = idx[:: math.ceil(len(idx) / MAX_GROUND_TOP)]
                xs = [c.xs[i] for i in idx]
            top.scatter(xs, [c.ys[i] for i in idx], marker_style=color, hires_mode=HiResMode.BRAILLE)
        for i, (label, corners, (x0, x1, z0, z1)) in enumerate(self.cuboids):
            color = _hex(_label_color(label, i))
            top.plot([p[0] for p in corners], [p[1] for p in corners], line_style=color,
                     hires_mode=HiResMode.BRAILLE)
            side.plot([x0, x1, x1, x0, x0], [z0, z0, z1, z1, z0], line_style=color,
                      hires_mode=HiResMode.BRAILLE)
        top.set_xlabel("x (m)")
        side.set_xlabel("x (m)")
        top.fit()
        side.fit()

    def legend(self) -> Text:
        t = Text()
        for i, (_hi, color, name) in enumerate(_HEIGHT_BANDS):
            if i:
                t.append("  ")
            t.append("⣿ ", style=color)
            t.append(name)
        counts: dict[str, int] = {}
        for label, *_ in self.cuboids:
            counts[label] = counts.get(label, 0) + 1
        for i, (label, n) in enumerate(counts.items()):
            t.append("  ")
            t.append("▭ ", style=_hex(_label_color(label, i)))
            t.append(label + (f" ×{n}" if n > 1 else ""))
        for note in (_undrawable(self.cuboids_skipped, "cuboid"), _undrawable(self.cloud.skipped, "point")):
            if note:
                t.append("\n")
                t.append(note, style="yellow")
        return t


# --------------------------------------------------------------------------- the preview
def text_preview(data: bytes) -> tuple[str, str]:
    """The shown part of a text attachment, cleaned, and a caption note when cut: at most
    ``MAX_TEXT_BYTES`` (cut at a character boundary)."""
    note = ""
    if len(data) > MAX_TEXT_BYTES:
        note = f" (the first {MAX_TEXT_BYTES:,} of {len(data):,} bytes; u copies the URL of the whole)"
        # not final: a character cut at the end is left out, not shown as a replacement mark
        text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data[:MAX_TEXT_BYTES], final=False)
    else:
        text = data.decode("utf-8", errors="replace")
    return clean(text), note



def _decode_image(data: bytes) -> PILImage.Image:
    """Decode (in a worker thread) and bound the size of an attachment image."""
    img = PILImage.open(io.BytesIO(data))
    img.load()
    if max(img.size) > MAX_IMAGE_SIDE:
        img.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))
    return img.convert("RGB")


def _kind_of(task: Task, content_type: str | None = None) -> str:
    t = (task.attachment_type or "").lower()
    ct = (content_type or "").lower()
    url = (task.attachment or "").lower().split("?")[0]
    if t in ("image", "images") or ct.startswith("image/") or url.endswith((".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")):
        return "image"
    if t in ("pointcloud", "point_cloud", "lidar") or task.type.startswith("lidar") or url.endswith(".pcd.json"):
        return "pointcloud"
    if t in ("text", "document") or ct.startswith("text/") or url.endswith(".txt"):
        return "text"
    if t:
        return t
    return ct or "unknown"


class MediaPreview(VerticalScroll):
    """The Preview tab's content for one task. Call :meth:`show` with each task."""

    DEFAULT_CSS = """
    MediaPreview {
        height: 1fr;
    }
    MediaPreview #preview-caption {
        height: auto;
        color: $text-muted;
    }
    MediaPreview #preview-message {
        height: auto;
        padding: 1 0;
    }
    MediaPreview #preview-body {
        height: 1fr;
    }
    MediaPreview #preview-text {
        height: auto;
    }
    MediaPreview.-text #preview-body {
        height: auto;
    }
    """

    def __init__(self, fetch: Fetch, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._fetch = fetch
        self.task_shown: Task | None = None
        self.state = "empty"  # loading | image | pointcloud | text | message
        self.message = ""
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-caption")
        yield Static("", id="preview-message")
        yield Vertical(id="preview-body")

    def show(self, task: Task, *, force: bool = False) -> None:
        """Show ``task``'s media (re-fetched only if the attachment or response changed)."""
        prev = self.task_shown
        self.task_shown = task
        if (not force and prev is not None and prev.task_id == task.task_id
                and prev.attachment == task.attachment and prev.response == task.response
                and prev.status == task.status and self.state not in ("empty", "message")):
            return
        self._generation += 1
        self._load(task, self._generation)

    async def _set(self, state: str, *, caption: Text | str = "", message: str = "",
                   body: Widget | None = None) -> None:
        self.state = state
        self.message = message
        self.set_class(state == "text", "-text")
        self.query_one("#preview-caption", Static).update(caption if isinstance(caption, Text) else Text(caption))
        msg = self.query_one("#preview-message", Static)
        msg.update(Text(message))
        msg.display = bool(message)
        container = self.query_one("#preview-body", Vertical)
        await container.remove_children()
        if body is not None:
            await container.mount(body)

    def _cannot(self, task: Task, why: str) -> str:
        url = " Press u to copy its URL." if task.attachment else ""
        return f"{why}{url}"

    @work(exclusive=True, group="preview")
    async def _load(self, task: Task, generation: int) -> None:
        url = task.attachment
        if not url:
            await self._set("message", message="This task has no attachment to preview.")
            return
        kind = _kind_of(task)
        if kind not in ("image", "pointcloud", "text", "unknown"):
            await self._set("message", message=self._cannot(
                task, f"This task's attachment is of type {one_line(kind, 40)!r}, which cannot be "
                      "drawn in a terminal (images, point clouds and text can)."))
            return
        noun = {"pointcloud": "point cloud", "unknown": "attachment"}.get(kind, kind)
        await self._set("loading", message=f"Fetching the {noun}…")
        try:
            got = await self._fetch(url)
        except Exception as e:
            if generation == self._generation:
                await self._set("message", message=self._cannot(
                    task, f"The attachment could not be fetched: {clean(str(e) or type(e).__name__)}."))
            return
        if generation != self._generation:
            return  # another task is shown now
        data = got if isinstance(got, (bytes, bytearray)) else getattr(got, "content", b"")
        ctype = None if isinstance(got, (bytes, bytearray)) else getattr(got, "content_type", None)
        if kind == "unknown":
            kind = _kind_of(task, ctype)
            if kind not in ("image", "pointcloud", "text"):
                await self._set("message", message=self._cannot(
                    task, f"This task's attachment ({one_line(kind, 40)}) cannot be drawn in a "
                          "terminal (images, point clouds and text can)."))
                return
        completed = task.status == "completed"
        name = one_line(url.split("?")[0].rsplit("/", 1)[-1], 60)
        if kind == "image":
            try:
                img = await asyncio.to_thread(_decode_image, bytes(data))
            except (PILImage.DecompressionBombError, OSError, ValueError, SyntaxError) as e:
                await self._set("message", message=self._cannot(
                    task, f"The attachment is not an image this app can read ({clean(str(e))})."))
                return
            response = task.response if completed else None
            renderer = image_renderer()
            plan = await asyncio.to_thread(plan_annotations, response)
            drawn = None
            if not AnnotatedImage.by_cells(renderer):
                drawn, _legend = await asyncio.to_thread(annotate_image, img, response)
            if generation != self._generation:
                return
            widget = AnnotatedImage(img, response, drawn=drawn, renderer=renderer, id="preview-image")
            n = sum(count for _label, _color, count in plan.legend)
            caption = Text(f"{name} · {img.width}×{img.height}")
            if completed:
                caption.append(f" · {n} annotation{'s' if n != 1 else ''} drawn" if n else
                               " · no annotations drawn" if plan.skipped else " · no annotations in the response")
            else:
                caption.append(" · original attachment (the task is not completed)")
            if plan.legend:
                caption.append("\n")
                caption.append_text(_legend_text(plan.legend))
            if plan.skipped:
                caption.append("\n")
                caption.append(plan.note(), style="yellow")
            await self._set("image", caption=caption, body=widget)
        elif kind == "pointcloud":
            try:
                cloud = await asyncio.to_thread(parse_point_cloud, bytes(data))
            except PointCloudError as e:
                await self._set("message", message=self._cannot(task, f"The point cloud cannot be drawn: {e}."))
                return
            if generation != self._generation:
                return
            view = PointCloudView(cloud, task.response if completed else None, id="preview-cloud")
            caption = Text(f"{name} · {cloud.total:,} points")
            read = len(cloud.xs) + cloud.skipped
            if cloud.total > read:
                caption.append(f" (every {math.ceil(cloud.total / read)}th drawn)")
            caption.append(f" · {len(view.cuboids)} cuboid{'s' if len(view.cuboids) != 1 else ''}" if completed else
                           " · original frame (the task is not completed)")
            caption.append("\n")
            caption.append_text(view.legend())
            await self._set("pointcloud", caption=caption, body=view)
        else:
            text, note = await asyncio.to_thread(text_preview, bytes(data))
            await self._set("text", caption=Text(f"{name} · {len(text):,} characters{note}"),
                            body=Static(Text(text), id="preview-text"))
