"""Key bindings: every binding has an id so that operators can remap it in the config
file's ``[keymap]`` table (``"tasks.refresh" = "ctrl+r"``), applied with Textual's
``App.set_keymap``.

:func:`bind` is the one way a binding is declared. :func:`check_keymap` warns about ids
that no class in the given list declares (the app passes its explicit list of remappable
screens and widgets, :func:`tasktui.ui.app.remappable`). The helpers below
(:func:`node_bindings`, :func:`bindings_for_key`, :func:`key_for`, :func:`run_binding`,
:func:`action_state`) are the only place that reads Textual's private binding state
(``_bindings``, ``App._keymap``, ``App._check_action_state``), so a Textual upgrade
touches this module alone; so are the read-outs of what the screen shows
(:func:`screen_text`, :func:`screen_bytes`, :func:`notification_messages`), which the
tests use, and the two writes the clipboard needs (:func:`set_app_clipboard`,
:func:`write_to_terminal`).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

__all__ = [
    "action_state",
    "bind",
    "bindings_for_key",
    "check_keymap",
    "declared_bindings",
    "key_for",
    "node_bindings",
    "notification_messages",
    "run_binding",
    "screen_bytes",
    "screen_segments",
    "screen_text",
    "set_app_clipboard",
    "write_to_terminal",
]


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


def declared_bindings(classes: Iterable[type[DOMNode]]) -> dict[str, Binding]:
    """Every binding with an id declared by ``classes`` (and their base classes)."""
    out: dict[str, Binding] = {}
    for cls in classes:
        for klass in cls.__mro__:
            for b in klass.__dict__.get("BINDINGS", ()) or ():
                if isinstance(b, Binding) and b.id:
                    out.setdefault(b.id, b)
    return out


def check_keymap(keymap: Mapping[str, str], classes: Iterable[type[DOMNode]]) -> list[str]:
    """Warnings for ids in ``keymap`` that no binding of ``classes`` declares."""
    known = set(declared_bindings(classes))
    warnings = []
    for bid in keymap:
        if bid not in known:
            ours = sorted(k for k in known if "." in k)
            warnings.append(
                f"keymap: no key binding has the id {bid!r} (it is ignored); "
                f"ids you can remap: {', '.join(ours)}"
            )
    return warnings


# ---------------------------------------------------------------------- Textual internals
def node_bindings(node: DOMNode) -> BindingsMap:
    """The bindings of ``node`` with the app's keymap applied (a copy)."""
    bm = node._bindings.copy()
    keymap = node.app._keymap
    if keymap:
        bm.apply_keymap(keymap)
    return bm


def bindings_for_key(node: DOMNode, key: str) -> list[Binding]:
    """The bindings of ``node`` that ``key`` triggers (remapping included)."""
    return list(node._bindings.key_to_bindings.get(key, []))


def key_for(binding_id: str, nodes: Iterable[DOMNode]) -> str:
    """The key (as displayed) bound to ``binding_id`` on the first of ``nodes`` that has
    it, remapping included; the id itself when none does."""
    for node in nodes:
        for key, bindings in node_bindings(node).key_to_bindings.items():
            for b in bindings:
                if b.id == binding_id:
                    return b.key_display or node.app.get_key_display(b) or key
    return binding_id


def run_binding(binding_id: str, nodes: Iterable[DOMNode]) -> bool:
    """Run the action of the binding ``binding_id`` on the first of ``nodes`` declaring
    it (soon, from the message loop). False when none does."""
    for node in nodes:
        for _key, b in node._bindings:
            if b.id == binding_id:
                node.call_later(node.run_action, b.action)
                return True
    return False


def action_state(node: DOMNode, action: str) -> bool | None:
    """What ``check_action`` says about ``action`` on ``node``: True, False (hidden) or
    None (shown disabled)."""
    return node.app._check_action_state(action, node)


def screen_text(app: App) -> str:
    """What the screen shows, as text (one line per row)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def screen_segments(app: App) -> list[str]:
    """The text of every segment on the screen, in drawing order."""
    return [seg.text for strip in app.screen._compositor.render_strips() for seg in strip]


def screen_bytes(app: App) -> str:
    """The exact text Textual would write to a terminal for a full repaint."""
    return app.screen._compositor.render_update(full=True).render_segments(app.console)


def notification_messages(app: App, *, titles: bool = False) -> list[str]:
    """The messages of the notifications on screen, oldest first (with ``titles``, each
    title too, as a separate item)."""
    out: list[str] = []
    for n in app._notifications:
        out.append(str(n.message))
        if titles:
            out.append(str(n.title))
    return out


def set_app_clipboard(app: App, text: str) -> None:
    """Set the app's own clipboard (``App.clipboard`` is read-only)."""
    app._clipboard = text


def write_to_terminal(app: App, data: str) -> None:
    """Write ``data`` (an escape sequence) straight to the terminal, if the app has one."""
    driver = app._driver
    if driver is not None:
        driver.write(data)
        try:
            driver.flush()
        except Exception:  # noqa: BLE001 - a terminal that cannot flush still got the write
            pass
