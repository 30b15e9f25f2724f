"""The values the client hands out: one page of a task listing, and an attachment's bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tasktui.domain import Task


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of a task listing.

    ``token`` is the token this page was fetched with (None for the first page) and
    ``next_token`` the one that fetches the next; both can be kept to come back later
    (export resumes from ``next_token``; the store re-fetches pages it dropped).
    ``total`` is the server's count for the query; when rows are filtered locally
    (a server without the extensions the query needs) it counts the wider wire query
    and ``total_exact`` is False — then only ``TaskClient.count`` (or a store's complete
    scan) knows the exact number. ``scanned`` is how many wire tasks were read for it.
    """

    tasks: list[Task]
    total: int
    next_token: str | None
    has_more: bool
    token: str | None = None
    total_exact: bool = True
    scanned: int = 0
    #: The server's clock when it answered (its ``Date`` header), if it sent one.
    server_time: datetime | None = None
    #: Handed out as pages arrive (``iter_pages_sliced(in_order=False)``): how many of the
    #: tasks handed out since the read began lie before ``next_token`` (the rest will be
    #: read again by a resume from it). None in listing order, where all of them do.
    covered: int | None = None

    def __len__(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True, slots=True)
class ListingHead:
    """The first page of a listing as the server sends it (newest first, its filters
    only), read before the listing's upper bound is fixed: ``TaskClient.head``.

    Its answer tells the server's clock; handed back to ``iter_pages_sliced(head=...)``
    for the same filters bounded at ``end`` or earlier, it also tells that listing's
    size, so that a sliced read starts without asking for it again. ``params`` are the
    wire parameters it was read with, without the upper bound: a head read with others
    (the extensions learnt meanwhile changed them) is not used."""

    page: TaskPage
    params: tuple[tuple[str, str], ...]
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Attachment:
    """The bytes of an attachment, with the content type the server declared."""

    url: str
    content: bytes
    content_type: str | None

    def __repr__(self) -> str:
        return f"Attachment({self.url!r}, {len(self.content)} bytes, {self.content_type!r})"
