"""Identifiers in requests: a project, batch, unique id, tag or task type is a name that
other requests filter on, so it holds printable text only. Control characters (C0, DEL,
C1), line and paragraph separators and bidirectional controls are refused with a 400
naming the field, as is a name that is blank or too long; a trailing newline is not
quietly accepted (patterns are matched in full, never with ``$``)."""

from __future__ import annotations

import re
import unicodedata

from tasktui.server.errors import BadRequest
from tasktui.server.limits import TAG_LENGTH_MAX, TAGS_MAX

#: Characters no name may hold: controls (Cc), format controls that reorder or hide text
#: (bidi embeddings, overrides and isolates; zero-width marks), and line / paragraph separators.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029]")

#: A task type: lower-case letters, digits and underscores (``imageannotation``).
TASK_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def bad_character(text: str) -> str | None:
    """The first character ``text`` may not hold as a name, as ``U+XXXX``, or None."""
    m = _FORBIDDEN.search(text)
    if m is None:
        return None
    ch = m.group()
    return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'a control character').lower()})"


def check_name(field: str, value: object, max_len: int) -> str:
    """``value`` as a name for ``field``; a 400 naming the field and what is wrong."""
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{field} must be a non-empty string")
    if len(value) > max_len:
        raise BadRequest(f"{field} is {len(value):,} characters long; the limit is {max_len:,}")
    bad = bad_character(value)
    if bad:
        raise BadRequest(f"{field} holds the character {bad}; names may hold printable text only")
    return value


def is_task_type(text: str) -> bool:
    return TASK_TYPE.fullmatch(text) is not None


TAGS_SHAPE = 'tags must be a JSON array of non-empty strings, e.g. ["night", "rain"]'


def check_tags(value: object) -> list[str]:
    """``value`` as a list of tags (duplicates dropped, order kept): each a name of at
    most ``TAG_LENGTH_MAX`` characters, at most ``TAGS_MAX`` of them; a 400 otherwise."""
    if not isinstance(value, list):
        raise BadRequest(TAGS_SHAPE)
    for t in value:
        if not isinstance(t, str) or not t:
            raise BadRequest(TAGS_SHAPE)
        check_name("tags", t, TAG_LENGTH_MAX)
    tags = list(dict.fromkeys(value))
    check_tag_count(len(tags))
    return tags


def check_tag_count(n: int) -> None:
    if n > TAGS_MAX:
        raise BadRequest(f"a task may carry at most {TAGS_MAX} tags; this would give it {n:,}")
