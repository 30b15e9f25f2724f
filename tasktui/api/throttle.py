"""Throttle: how many listing requests may be in flight at once, lowered when the server
answers 429 and raised again slowly while it does not.

The sliced reader runs several page chains; each request of a chain takes a slot here.
A 429 halves the slots (never below one) — the chains back off, the others wait for a
slot — and after ``recover_after`` answers in a row without one, a slot is given back,
up to the ceiling. The wait the server asks for (``Retry-After``) is the transport's;
this only decides how many ask at once. No I/O, no clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

#: Answers in a row without a 429 before one more request may run at once.
RECOVER_AFTER = 20

#: Page chains a bulk read (``tasktui export``, ``tasktui sync``) runs at once unless told
#: otherwise (``--parallel``, the ``parallel`` config key); the console keeps the client's
#: 8. They pay only with pages of 100 (the public API: each page a round trip); bulk pages
#: of 1,000 from the bundled server are read by at most four chains whatever this says.
#: Polite enough for a remote API: a bulk read makes about the requests a loop over the
#: SDK makes (one per 100 tasks, a few percent more where a slice ends in a part-filled
#: page), only at most 16 at a time; every 429 halves the chains (16, 8, 4, 2, 1) and
#: ``Retry-After`` is waited out.
BULK_READ_PARALLEL = 16


class Throttle:
    def __init__(self, ceiling: int, *, recover_after: int = RECOVER_AFTER):
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self.recover_after = max(1, recover_after)
        self.active = 0
        self.backoffs = 0  # how many times a 429 lowered the limit
        self._streak = 0
        self._changed = asyncio.Condition()

    def set_ceiling(self, ceiling: int) -> None:
        """A new ceiling (the configured number of chains); the current limit follows it
        down at once, and up only as answers come back without a 429."""
        self.ceiling = max(1, ceiling)
        self.limit = min(self.limit, self.ceiling)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``limit`` slots for the duration of a request."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.active < self.limit)
            self.active += 1
        try:
            yield
        finally:
            async with self._changed:
                self.active -= 1
                self._changed.notify_all()

    def rate_limited(self) -> None:
        """The server answered 429: halve the requests in flight."""
        self._streak = 0
        new = max(1, self.limit // 2)
        if new < self.limit:
            self.limit = new
            self.backoffs += 1

    async def answered(self) -> None:
        """A request succeeded: after enough of them in a row, allow one more at once."""
        self._streak += 1
        if self._streak >= self.recover_after and self.limit < self.ceiling:
            self._streak = 0
            async with self._changed:
                self.limit += 1
                self._changed.notify_all()
