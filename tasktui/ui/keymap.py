"""Key bindings: every binding has an id so that operators can remap it in the config
file's ``[keymap]`` table (``"tasks.refresh" = "ctrl+r"``), applied with Textual's
``App.set_keymap``.

:func:`bind` builds a Binding with its id; :func:`known_binding_ids` collects every id
declared by the app's screens and widgets, so a typo in the config file gets a warning
naming the ids that exist.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from textual.binding import Binding
from textual.dom import DOMNode


def bind(
    binding_id: str,
    keys: str,
    action: str,
    description: str = "",
    *,
    show: bool = True,
    key_display: str | None = None,
    priority: bool = False,
    tooltip: str = "",
) -> Binding:
    """A Binding that can be remapped under ``binding_id``."""
    return Binding(keys, action, description, show=show, key_display=key_display,
                   priority=priority, tooltip=tooltip, id=binding_id)


def _subclasses(cls: type) -> Iterable[type]:
    seen: set[type] = set()
    stack = [cls]
    while stack:
        c = stack.pop()
        for sub in c.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def known_bindings() -> dict[str, Binding]:
    """Every binding with an id declared by a class of tasktui's ui (and by Textual's
    own widgets) that has been imported."""
    out: dict[str, Binding] = {}
    for cls in _subclasses(DOMNode):
        for b in getattr(cls, "BINDINGS", ()) or ():
            if isinstance(b, Binding) and b.id:
                out.setdefault(b.id, b)
    return out


def known_binding_ids() -> set[str]:
    return set(known_bindings())


def check_keymap(keymap: Mapping[str, str]) -> list[str]:
    """Warnings for ids in ``keymap`` that no binding declares."""
    known = known_binding_ids()
    warnings = []
    for bid in keymap:
        if bid not in known:
            ours = sorted(k for k in known if "." in k)
            warnings.append(
                f"keymap: no key binding has the id {bid!r} (it is ignored); "
                f"ids you can remap: {', '.join(ours)}"
            )
    return warnings
