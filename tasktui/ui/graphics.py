"""What the terminal can draw: Sixel, the Kitty graphics protocol, or neither; and its cell
size in pixels. Asked once, before Textual takes over the terminal, in one round trip.

textual-image asks the same questions when it is first imported, one after the other, each
with a 0.1 s timeout that a terminal without Kitty graphics (tmux, most terminals) always
runs into, and it needs Pillow and numpy to be imported first: that cost ~0.3 s of the
console's start-up for a preview that may never be opened. Here the three questions go out
together, followed by the Device Attributes request that every terminal answers: the answers
to the other two (if any) arrive before it, so there is no timeout to wait for.

:func:`probe_terminal` runs from the ``tui`` command before ``App.run``; the previews call
:func:`import_textual_image` when first shown, which imports textual-image with the answers
already known (it asks nothing once Textual reads the terminal) and
:func:`auto_renderer` picks the renderer from them.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
from dataclasses import dataclass
from types import ModuleType

__all__ = ["Graphics", "auto_renderer", "import_textual_image", "parse_answers", "probe_terminal", "probed"]

#: Kitty graphics query (a 1x1 image that is not stored), the text-area size in pixels
#: (``CSI 14 t``) and the cell size in pixels (``CSI 16 t``), then Device Attributes.
KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
CELL_QUERY = "\x1b[16t"
DA_QUERY = "\x1b[c"
QUERIES = KITTY_QUERY + CELL_QUERY + DA_QUERY

_DA = re.compile(r"\x1b\[\?([0-9;]*)c")
_KITTY = re.compile(r"\x1b_Gi=31;([^\x1b]*)\x1b\\")
_CELL = re.compile(r"\x1b\[6;(\d+);(\d+)t")


@dataclass(frozen=True)
class Graphics:
    """The terminal's answers: ``sixel`` (Device Attributes list 4), ``kitty`` (the
    graphics query answered OK), ``cell`` (width, height in pixels; None when unknown)."""

    sixel: bool = False
    kitty: bool = False
    cell: tuple[int, int] | None = None


_probed: Graphics | None = None


def probed() -> Graphics | None:
    """What :func:`probe_terminal` found in this process (None: not asked, or no terminal)."""
    return _probed


def parse_answers(text: str) -> Graphics | None:
    """The answers in ``text`` (what the terminal sent back), or None when the Device
    Attributes answer is not (yet) among them."""
    da = _DA.search(text)
    if da is None:
        return None
    before = text[: da.start()]
    kitty = _KITTY.search(before)
    cell = _CELL.search(before)
    return Graphics(
        sixel="4" in da.group(1).split(";"),
        kitty=kitty is not None and kitty.group(1) == "OK",
        cell=(int(cell.group(2)), int(cell.group(1))) if cell and int(cell.group(1)) and int(cell.group(2))
        else None,
    )


def probe_terminal(in_fd: int | None = None, out_fd: int | None = None, *, timeout: float = 0.5) -> Graphics | None:
    """Ask the terminal (``out_fd``, answers read from ``in_fd``; stdout / stdin by default)
    and remember the answers for :func:`auto_renderer`. Returns None, asking nothing, when
    either is not a terminal; None also when no Device Attributes answer came within
    ``timeout`` (a terminal that answers nothing: then no graphics are assumed, and images
    are drawn with half-blocks as on any terminal)."""
    global _probed
    try:
        if in_fd is None:
            in_fd = sys.__stdin__.fileno() if sys.__stdin__ else -1
        if out_fd is None:
            out_fd = sys.__stdout__.fileno() if sys.__stdout__ else -1
        if in_fd < 0 or out_fd < 0 or not (os.isatty(in_fd) and os.isatty(out_fd)):
            return None
    except (OSError, ValueError):
        return None
    import termios
    import tty

    try:
        saved = termios.tcgetattr(in_fd)
    except termios.error:
        return None
    answer = ""
    try:
        tty.setcbreak(in_fd, termios.TCSANOW)
        os.write(out_fd, QUERIES.encode())
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([in_fd], [], [], left)
            if not ready:
                break
            chunk = os.read(in_fd, 1024)
            if not chunk:
                break
            answer += chunk.decode("utf-8", "replace")
            found = parse_answers(answer)
            if found is not None:
                _probed = found
                return found
    except OSError:
        return None
    finally:
        termios.tcsetattr(in_fd, termios.TCSANOW, saved)
    _probed = Graphics()  # a terminal, silent: half-blocks
    return None


def auto_renderer() -> str:
    """The image renderer for ``auto``: Sixel where the terminal has it, else the Kitty
    protocol, else half-blocks on a terminal, else Unicode (textual-image's own order)."""
    g = _probed
    if g is None:
        return "unicode"
    if g.sixel:
        return "sixel"
    if g.kitty:
        return "kitty"
    return "halfcell"


def import_textual_image() -> ModuleType:
    """``textual_image.widget``, imported without letting it ask the terminal anything
    (Textual reads the terminal by now: the answers would turn into key presses, and each
    question would wait for its timeout). The cell size is the probe's, else the window's
    size in pixels from the kernel, else textual-image's default."""
    import textual_image._terminal as term

    if not hasattr(term.get_cell_size, "_result"):
        cell = _probed.cell if _probed is not None else None
        if cell is None:
            cell = _cell_from_kernel()
        if cell is not None:
            term.get_cell_size._result = term.CellSize(*cell)  # type: ignore[attr-defined]
        else:
            term.get_cell_size._result = term.CellSize(10, 20)  # type: ignore[attr-defined]
    real = term.capture_terminal_response

    def refuse(*args: object, **kwargs: object):
        raise term.TerminalError("tasktui asked the terminal already (tasktui.ui.graphics)")

    term.capture_terminal_response = refuse  # type: ignore[assignment]
    try:
        import textual_image.widget as widget
    finally:
        term.capture_terminal_response = real  # type: ignore[assignment]
    return widget


def _cell_from_kernel() -> tuple[int, int] | None:
    import fcntl
    import struct
    import termios

    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ else -1
        rows, cols, width, height = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    except (OSError, ValueError):
        return None
    if rows and cols and width and height:
        return width // cols, height // rows
    return None
