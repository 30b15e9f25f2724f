"""`make run` installs only what running needs; `make test` adds the test packages (issue
14: a fresh clone's `make run` took a minute installing pytest and friends). Read from the
Makefile and pyproject.toml as they are; the expectations are literals."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: packages only the tests or `make mutate` use (literal: the extras must not shrink to hide one)
TEST_ONLY = {
    "pytest", "pytest-asyncio", "pytest-xdist", "pytest-timeout", "pytest-textual-snapshot", "hypothesis",
    "schemathesis", "import-linter", "scaleapi", "mutmut", "textual-dev", "syrupy", "pytest-cov",
}


def make_rules() -> dict[str, tuple[list[str], list[str]]]:
    """target -> (prerequisites, recipe lines), variables expanded (``$(STAMP)`` ...)."""
    text = (ROOT / "Makefile").read_text()
    variables: dict[str, str] = {}

    def expand(s: str) -> str:
        for _ in range(5):
            s = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), s)
        return s

    rules: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("\t"):
            if current is not None:
                current.append(expand(line.strip()))
            continue
        current = None
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if m := re.match(r"^(\w+)\s*(\?|:)?=\s*(.*)$", line):
            variables.setdefault(m.group(1), expand(m.group(3).strip()))
            continue
        if m := re.match(r"^([^:=\s][^:=]*?):(?!=)\s*(.*)$", line):
            target = expand(m.group(1).strip())
            if re.fullmatch(r"\.[A-Z_]+", target):  # .PHONY and the like
                continue
            current = []
            rules[target] = ([expand(p) for p in m.group(2).split()], current)
    return rules


def recipes_of(rules, target: str) -> list[str]:
    """Every recipe line `make target` may run: the target's and its prerequisites', depth first."""
    out: list[str] = []
    seen: set[str] = set()

    def walk(t: str) -> None:
        if t in seen or t not in rules:
            return
        seen.add(t)
        prereqs, recipe = rules[t]
        for p in prereqs:
            walk(p)
        out.extend(recipe)

    walk(target)
    return out


def pip_installs(lines: list[str]) -> list[str]:
    """What each ``pip install`` line installs (its words after ``install``, options dropped)."""
    out = []
    for line in lines:
        if m := re.search(r"pip install (.*)$", line):
            out.append(" ".join(w for w in m.group(1).split() if not w.startswith("--")))
    return out


def dist_name(requirement: str) -> str:
    """``"textual[syntax]>=8.2,<9"`` -> ``"textual"`` (normalised as pip does)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_make_run_installs_the_package_without_the_test_extra():
    rules = make_rules()
    installs = pip_installs(recipes_of(rules, "run"))
    assert installs == ["pip", "-e ."], installs  # pip itself upgraded, then the package: nothing else
    for target in ("run", "serve"):
        text = " ".join(recipes_of(rules, target))
        assert "[test" not in text and "[mutate" not in text, (target, text)
        assert not any(name in text.split() for name in TEST_ONLY), (target, text)


def test_make_test_installs_the_test_extra():
    installs = pip_installs(recipes_of(make_rules(), "test"))
    assert "-e ." in installs
    assert "-e '.[test]'" in installs, installs
    assert any("-m pytest" in line for line in make_rules()["test"][1])


def test_runtime_dependencies_hold_no_test_package():
    project = pyproject()["project"]
    runtime = {dist_name(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert set(extras) == {"test", "mutate"}
    test_extra = {dist_name(r) for r in extras["test"]} | {dist_name(r) for r in extras["mutate"]}
    # the extras hold what the tests use (literals), and none of it is a runtime dependency
    assert {"pytest", "pytest-asyncio", "pytest-xdist", "pytest-timeout", "pytest-textual-snapshot",
            "hypothesis", "schemathesis", "import-linter", "scaleapi", "mutmut"} <= test_extra
    assert not runtime & (test_extra | TEST_ONLY), runtime & (test_extra | TEST_ONLY)
    assert {"textual", "httpx", "starlette", "uvicorn"} <= runtime  # what running needs is there
