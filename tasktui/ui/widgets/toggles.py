"""Check boxes and radio buttons that show their state with a glyph, not only by colour:
Textual's own draw the same character on and off and tell them apart by colour alone,
which is invisible with ``NO_COLOR`` or on a monochrome terminal.

:class:`CheckList` is a SelectionList whose boxes read ``[x]`` / ``[ ]``;
:class:`Radio` is a RadioButton that reads ``(•)`` / ``( )``.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, RadioButton, SelectionList
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import SelectionType

__all__ = ["CheckList", "Radio", "check_glyph", "radio_glyph"]


def check_glyph(on: bool) -> str:
    """The box of a check list entry."""
    return "[x]" if on else "[ ]"


def radio_glyph(on: bool) -> str:
    """The button of a radio entry."""
    return "(•)" if on else "( )"


class CheckList(SelectionList[SelectionType]):
    """A SelectionList whose boxes say ``[x]`` when selected and ``[ ]`` when not."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 4 or segments[1].text != Checkbox.BUTTON_INNER:
            return strip
        index = self.scroll_offset.y + y
        try:
            option = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return strip
        on = option.value in self.selected
        glyph = check_glyph(on)
        base = (segments[3].style or Style()) + Style(meta={"option": index})
        inner = segments[1].style or base
        segments[0:3] = [Segment(glyph[0], base), Segment(glyph[1], inner + Style(bold=True)),
                         Segment(glyph[2], base)]
        return Strip(segments, strip.cell_length)


class Radio(RadioButton):
    """A RadioButton that says ``(•)`` when on and ``( )`` when off."""

    @property
    def _button(self) -> Content:
        glyph = radio_glyph(self.value)
        style = self.get_visual_style("toggle--button")
        return Content.assemble(glyph[0], (glyph[1], style), glyph[2])
