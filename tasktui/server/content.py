"""Deterministic task content: the objects in an image, the points of a lidar frame,
the words of a text. Everything is a pure function of (kind, seed), so that media can be
generated lazily on request and a completed task's ``response`` lines up with its media.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache
from typing import Any

IMAGE_W, IMAGE_H = 640, 400

PROJECTS: list[dict[str, Any]] = [
    {
        "name": "Street Scenes", "slug": "street", "type": "imageannotation", "kind": "boxes",
        "weight": 30, "labels": ["car", "pedestrian", "cyclist", "bus", "traffic light"],
    },
    {
        "name": "Retail Shelves", "slug": "shelves", "type": "imageannotation", "kind": "polygons",
        "weight": 12, "labels": ["bottle", "box", "can", "price tag"],
    },
    {
        "name": "Lidar Highway", "slug": "lidar", "type": "lidarannotation", "kind": "lidar",
        "weight": 15, "labels": ["car", "truck", "motorcycle"],
    },
    {
        "name": "Support Tickets", "slug": "tickets", "type": "categorization", "kind": "ticket",
        "weight": 15, "labels": ["billing", "bug", "feature request", "account", "other"],
    },
    {
        "name": "Receipts OCR", "slug": "receipts", "type": "transcription", "kind": "ocr",
        "weight": 10, "labels": [],
    },
    {
        "name": "Product Reviews", "slug": "reviews", "type": "textcollection", "kind": "review",
        "weight": 10, "labels": ["positive", "neutral", "negative"],
    },
    {
        "name": "Café Menü ✨", "slug": "cafe", "type": "categorization", "kind": "ticket",
        "weight": 8, "labels": ["starter", "main", "dessert", "drink"],
    },
]
PROJECT_BY_NAME = {p["name"]: p for p in PROJECTS}

#: media file name served for each kind (``/v1/media/{task_id}/{name}``)
MEDIA_NAME = {
    "boxes": "image.png", "polygons": "image.png", "ocr": "image.png",
    "lidar": "pointcloud.json", "ticket": "text.txt", "review": "text.txt",
}
ATTACHMENT_TYPE = {
    "boxes": "image", "polygons": "image", "ocr": "image",
    "lidar": "pointcloud", "ticket": "text", "review": "text",
}
LABEL_COLORS = {
    "car": (220, 60, 60), "pedestrian": (60, 160, 230), "cyclist": (240, 200, 40),
    "bus": (230, 120, 30), "traffic light": (60, 200, 90), "bottle": (90, 170, 220),
    "box": (200, 150, 90), "can": (210, 70, 160), "price tag": (250, 230, 120),
}

_TICKET_WORDS = {
    "billing": ["I was charged twice for my subscription this month.",
                "The invoice shows the wrong VAT number.", "Please refund the last payment."],
    "bug": ["The export button crashes the app.", "Uploading a PNG shows a blank preview.",
            "Search returns nothing after the update."],
    "feature request": ["Could you add a dark mode?", "It would be great to filter by tag.",
                        "Please support keyboard shortcuts."],
    "account": ["I cannot reset my password.", "Please merge my two accounts.",
                "How do I change the account owner?"],
    "other": ["Thanks for the quick help last week!", "Where is your office located?",
              "Is there a student discount?"],
    "starter": ["Soupe à l'oignon gratinée", "Bruschetta al pomodoro", "Gyōza (餃子) mit Soja"],
    "main": ["Coq au vin, pommes purée", "Käsespätzle mit Röstzwiebeln", "Pad thai กุ้ง"],
    "dessert": ["Crème brûlée", "Apfelstrudel mit Sahne", "Tiramisù della casa"],
    "drink": ["Café crème ☕", "Grüner Tee 🍵", "Limonade maison"],
}
_REVIEW_WORDS = {
    "positive": ["Absolutely love it.", "Works exactly as described.", "Five stars, would buy again."],
    "neutral": ["It is fine for the price.", "Does the job, nothing special.", "Arrived on time."],
    "negative": ["Broke after two days.", "The colour is nothing like the photo.", "Too loud to use."],
}
_RECEIPT_ITEMS = ["Milk 1L", "Bread", "Apples 1kg", "Coffee beans", "Eggs x12", "Butter",
                  "Tomatoes", "Rice 2kg", "Olive oil", "Cheese", "Yoghurt", "Pasta"]


@lru_cache(maxsize=16384)
def content(kind: str, seed: int) -> dict[str, Any]:
    """The deterministic content of a demo task. (Draws with ``random()`` arithmetic
    rather than ``randint``: this runs for every completed task a page shows.)"""
    rng = random.Random(seed)
    rand = rng.random

    def ri(lo: int, hi: int) -> int:
        return lo + int(rand() * (hi - lo + 1))

    if kind in ("boxes", "polygons"):
        labels = PROJECTS[0]["labels"] if kind == "boxes" else PROJECTS[1]["labels"]
        nl = len(labels)
        shapes = []
        for _ in range(ri(2, 6)):
            label = labels[int(rand() * nl)]
            w = ri(40, 160)
            h = ri(40, 140)
            left = ri(5, IMAGE_W - w - 5)
            top = ri(5, IMAGE_H - h - 5)
            shape: dict[str, Any] = {"label": label, "left": left, "top": top, "width": w, "height": h}
            if kind == "polygons":
                cx, cy = left + w / 2, top + h / 2
                n = ri(4, 7)
                pts = []
                for k in range(n):
                    a = 2 * math.pi * k / n + (rand() - 0.5) * 0.4
                    r = 0.75 + rand() * 0.25
                    pts.append({"x": round(cx + math.cos(a) * w / 2 * r, 1),
                                "y": round(cy + math.sin(a) * h / 2 * r, 1)})
                shape["vertices"] = pts
            shapes.append(shape)
        return {"shapes": shapes, "background": ri(0, 3)}
    if kind == "ocr":
        items = rng.sample(_RECEIPT_ITEMS, rng.randint(3, 6))
        lines = [f"{it:<14} {rng.randint(1, 20)}.{rng.randint(0, 99):02d}" for it in items]
        return {"lines": ["CORNER SHOP", *lines, f"TOTAL {rng.randint(20, 90)}.{rng.randint(0, 99):02d}"]}
    if kind == "lidar":
        objects = []
        for _ in range(rng.randint(2, 5)):
            label = rng.choice(PROJECTS[2]["labels"])
            dims = {"car": (4.5, 1.9, 1.5), "truck": (9.0, 2.5, 3.4), "motorcycle": (2.1, 0.8, 1.4)}[label]
            objects.append({
                "label": label,
                "position": {"x": round(rng.uniform(-30, 30), 2), "y": round(rng.uniform(-12, 12), 2),
                             "z": round(dims[2] / 2, 2)},
                "dimensions": {"x": dims[0], "y": dims[1], "z": dims[2]},
                "yaw": round(rng.uniform(-0.3, 0.3), 3),
            })
        return {"objects": objects, "point_seed": rng.getrandbits(32)}
    if kind == "ticket":
        return {"_rng": rng.random()}
    if kind == "review":
        sentiment = rng.choice(list(_REVIEW_WORDS))
        sents = [rng.choice(_REVIEW_WORDS[sentiment]) for _ in range(rng.randint(1, 3))]
        return {"sentiment": sentiment, "text": " ".join(sents)}
    return {}


def ticket_content(labels: tuple[str, ...], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    category = rng.choice(labels)
    pool = _TICKET_WORDS.get(category) or ["(no text)"]
    return {"category": category, "text": " ".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))}


def response_for(project: dict[str, Any], seed: int) -> dict[str, Any]:
    """The labeler's response of a completed demo task (lines up with its media)."""
    kind = project["kind"]
    if kind == "boxes":
        return {"annotations": [
            {"label": s["label"], "left": s["left"], "top": s["top"], "width": s["width"], "height": s["height"]}
            for s in content(kind, seed)["shapes"]]}
    if kind == "polygons":
        return {"annotations": [
            {"label": s["label"], "vertices": s["vertices"]} for s in content(kind, seed)["shapes"]]}
    if kind == "lidar":
        return {"annotations": [
            {"label": o["label"], "type": "cuboid", "position": o["position"], "dimensions": o["dimensions"],
             "yaw": o["yaw"]} for o in content(kind, seed)["objects"]]}
    if kind == "ocr":
        return {"text": "\n".join(content(kind, seed)["lines"])}
    if kind == "ticket":
        return {"category": ticket_content(tuple(project["labels"]), seed)["category"]}
    if kind == "review":
        c = content(kind, seed)
        return {"fields": {"sentiment": c["sentiment"], "summary": c["text"][:80]}}
    return {}


def fixed_response(project: dict[str, Any], seed: int) -> dict[str, Any]:
    """What a reviewer's fix made of the labeler's response (deterministic)."""
    resp = response_for(project, seed)
    if "annotations" in resp and resp["annotations"]:
        anns = [dict(a) for a in resp["annotations"]]
        a = anns[0]
        if "width" in a:
            a["width"] = max(10, a["width"] - 6)
            a["left"] = a["left"] + 3
        elif "vertices" in a:
            a["vertices"] = [{"x": v["x"], "y": round(v["y"] + 2, 1)} for v in a["vertices"]]
        else:
            a["yaw"] = round(a.get("yaw", 0) + 0.05, 3)
        return {"annotations": anns}
    if "category" in resp:
        labels = project["labels"]
        return {"category": labels[(labels.index(resp["category"]) + 1) % len(labels)]}
    if "text" in resp:
        return {"text": resp["text"].replace("TOTAL", "TOTAL (checked)")}
    if "fields" in resp:
        return {"fields": {**resp["fields"], "summary": resp["fields"]["summary"] + " (edited)"}}
    return resp


def text_media(project: dict[str, Any], seed: int) -> str:
    kind = project["kind"]
    if kind == "ticket":
        return ticket_content(tuple(project["labels"]), seed)["text"] + "\n"
    if kind == "review":
        return content(kind, seed)["text"] + "\n"
    return ""


def point_cloud(seed: int, *, max_points: int = 6000) -> dict[str, Any]:
    """A lidar frame: ground returns on a grid plus points on the faces of every object
    of the task (so the response's cuboids enclose real clusters)."""
    c = content("lidar", seed)
    rng = random.Random(c["point_seed"])
    pts: list[list[float]] = []
    for _ in range(max_points // 2):
        x = rng.uniform(-40, 40)
        y = rng.uniform(-15, 15)
        pts.append([round(x, 2), round(y, 2), round(rng.gauss(0, 0.04), 3)])
    per = (max_points - len(pts)) // max(1, len(c["objects"]))
    for o in c["objects"]:
        px, py, pz = o["position"]["x"], o["position"]["y"], o["position"]["z"]
        dx, dy, dz = o["dimensions"]["x"], o["dimensions"]["y"], o["dimensions"]["z"]
        cy, sy = math.cos(o["yaw"]), math.sin(o["yaw"])
        for _ in range(per):
            u = rng.uniform(-0.5, 0.5) * dx
            v = rng.uniform(-0.5, 0.5) * dy
            w = rng.uniform(-0.5, 0.5) * dz
            face = rng.randrange(3)
            if face == 0:
                u = dx / 2 * rng.choice((-1, 1))
            elif face == 1:
                v = dy / 2 * rng.choice((-1, 1))
            else:
                w = dz / 2
            pts.append([round(px + u * cy - v * sy, 2), round(py + u * sy + v * cy, 2), round(pz + w, 2)])
    return {
        "format": "tasktui-pointcloud/1",
        "frame": seed % 1000,
        "units": "meters",
        "axes": {"x": "forward", "y": "left", "z": "up"},
        "points": pts,
    }
