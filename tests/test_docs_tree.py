"""README's module list matches the tree: every module of tasktui is named once, in its
own package, and nothing is named that does not exist (issue 10: the docs match the tree,
one line per module). Package ``__init__.py`` files are the packages' public faces and
are named by their folder line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "Every module, one line each"


def listed_modules() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index(MARKER)
    block = text[text.index("```", start) + 3:]
    block = block[block.index("\n") + 1:block.index("```")]
    stack: list[tuple[int, str]] = []
    out: list[str] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        first = line.split()[0]
        parent = stack[-1][1] if stack else ""
        if first.endswith("/"):
            path = parent + first
            stack.append((indent, path))
        else:
            path = parent
        out += [path + name for name in re.findall(r"\b\w+\.py\b", line)]
    return out


def tree_modules() -> list[str]:
    out = []
    for f in (ROOT / "tasktui").rglob("*.py"):
        rel = f.relative_to(ROOT).as_posix()
        if f.name == "__init__.py" and f.parent != ROOT / "tasktui":
            continue
        out.append(rel + "" if rel.startswith("tasktui/") else rel)
    return sorted(out)


def test_every_module_is_listed_once_and_nothing_else():
    listed = listed_modules()
    assert len(listed) == len(set(listed)), sorted({m for m in listed if listed.count(m) > 1})
    missing = sorted(set(tree_modules()) - set(listed))
    extra = sorted(set(listed) - set(tree_modules()))
    assert missing == [] and extra == [], f"not in README: {missing}; in README but not in the tree: {extra}"
