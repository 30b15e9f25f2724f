"""Copy text to the operator's clipboard, locally or over SSH.

How text is copied (``TASKTUI_CLIPBOARD`` = ``auto`` (default), ``native``,
``osc52`` or ``off``):

- ``native``: the system clipboard through pyperclip (pbcopy, wl-copy, xclip,
  xsel, Windows). ``auto`` uses it when one exists and the app is not running
  over SSH (where "native" would be the remote machine's clipboard).
- ``osc52``: the terminal's clipboard escape sequence ``ESC ] 52 ; c ; <base64> BEL``,
  which the terminal on the operator's desk honours even through SSH. Inside tmux
  the sequence is wrapped in a DCS passthrough (``ESC P tmux; ... ESC \\``, every
  ESC doubled; tmux >= 3.3 needs ``set -g allow-passthrough on``), inside GNU screen
  in DCS chunks of at most 76 bytes. Terminals cap what they accept, so text whose
  sequence would exceed ``TASKTUI_OSC52_MAX`` bytes (default 100,000) is not sent
  and the caller gets a message saying so.

In every case the app's own clipboard (``App.clipboard``) holds the text, so
paste inside the app and tests see it.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Callable, Mapping

from textual.app import App

from tasktui.ui.keymap import set_app_clipboard, write_to_terminal

__all__ = [
    "CopyResult",
    "DEFAULT_OSC52_MAX",
    "copy_text",
    "multiplexer",
    "osc52_sent_message",
    "osc52_sequence",
]

DEFAULT_OSC52_MAX = 100_000
_SCREEN_CHUNK = 76


def multiplexer(env: Mapping[str, str] | None = None) -> str | None:
    """``"tmux"``, ``"screen"`` or None, from the environment."""
    env = os.environ if env is None else env
    if env.get("TMUX"):
        return "tmux"
    if env.get("STY") or env.get("TERM", "").startswith("screen"):
        return "screen"
    return None


def osc52_sequence(text: str, *, mux: str | None = None) -> str:
    """The escape sequence that asks the terminal to put ``text`` on its clipboard,
    wrapped for the terminal multiplexer ``mux`` (``"tmux"``, ``"screen"`` or None)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    seq = f"\x1b]52;c;{payload}\x07"
    if mux == "tmux":
        return "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    if mux == "screen":
        # screen limits a DCS string to 768 bytes: send the sequence in chunks,
        # each its own DCS, which screen passes through in order.
        return "".join(
            "\x1bP" + seq[i : i + _SCREEN_CHUNK] + "\x1b\\" for i in range(0, len(seq), _SCREEN_CHUNK)
        )
    return seq


@dataclass(frozen=True)
class CopyResult:
    ok: bool
    method: str  # "native", "osc52", "app"
    message: str


def _human(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"


def _native_copier() -> Callable[[str], None] | None:
    try:
        import pyperclip
    except ImportError:  # pragma: no cover - pyperclip is a dependency
        return None
    try:
        copy, _paste = pyperclip.determine_clipboard()
    except Exception:
        return None
    return copy if copy else None


def copy_text(
    app: App,
    text: str,
    *,
    what: str = "text",
    mode: str | None = None,
    env: Mapping[str, str] | None = None,
    native: Callable[[str], None] | None | bool = True,
    too_big_hint: str = "",
) -> CopyResult:
    """Copy ``text`` and say how, in words for the operator.

    ``app`` is the running Textual app (its clipboard is always set, its driver
    receives the OSC 52 sequence). ``native`` may be a copy function to use
    instead of pyperclip's, or False for none (tests).
    """
    env = os.environ if env is None else env
    mode = (mode or env.get("TASKTUI_CLIPBOARD") or "auto").strip().lower()
    # App.copy_to_clipboard would also write an unwrapped, uncapped OSC 52 sequence
    set_app_clipboard(app, text)
    if mode == "off":
        return CopyResult(True, "app", f"Copied {what} inside the app (system clipboard is off)")

    over_ssh = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    if mode == "native" or (mode == "auto" and not over_ssh):
        copier = native if callable(native) else (_native_copier() if native else None)
        if copier is not None:
            try:
                copier(text)
            except Exception as e:  # the helper program failed: fall back below
                if mode == "native":
                    return CopyResult(False, "native", f"The system clipboard refused {what}: {e}")
            else:
                return CopyResult(True, "native", f"Copied {what} to the clipboard")
        elif mode == "native":
            return CopyResult(
                False, "native",
                "No system clipboard found (install wl-clipboard, xclip or xsel, "
                "or set TASKTUI_CLIPBOARD=osc52)",
            )

    try:
        cap = int(env.get("TASKTUI_OSC52_MAX") or DEFAULT_OSC52_MAX)
    except ValueError:
        cap = DEFAULT_OSC52_MAX
    seq = osc52_sequence(text, mux=multiplexer(env))
    if len(seq) > cap:
        return CopyResult(
            False, "osc52",
            f"Not copied: {what} is {_human(len(text.encode('utf-8')))}, more than the terminal "
            f"clipboard accepts ({_human(cap)} after encoding; TASKTUI_OSC52_MAX raises it)."
            + (f" {too_big_hint}" if too_big_hint else ""),
        )
    write_to_terminal(app, seq)
    return CopyResult(True, "osc52", osc52_sent_message(what, text, multiplexer(env)))


#: text up to this long is repeated in the message, so it can be copied by hand
OFFER_MAX = 120


def osc52_sent_message(what: str, text: str, mux: str | None) -> str:
    """What the operator is told after an OSC 52 request: nothing confirms that it reached a
    clipboard, so say what was sent, what the terminal must allow, and offer the text."""
    via = {"tmux": " through tmux", "screen": " through screen"}.get(mux or "", "")
    allow = {
        "tmux": "tmux allows it (set -g set-clipboard on; allow-passthrough on) and so does the terminal",
        "screen": "screen and the terminal allow it",
    }.get(mux or "", "the terminal allows clipboard writes (many need it switched on)")
    flat = " ".join(text.split())
    if flat in what:
        offer = ""  # the message names it already
    elif len(flat) <= OFFER_MAX and flat == text.strip():
        offer = f" The text: {flat}"
    else:
        offer = " It is also kept in the app: ctrl+v pastes it into a field here."
    return f"Sent {what} to the terminal's clipboard (OSC 52{via}). It arrives only if {allow}." + offer
