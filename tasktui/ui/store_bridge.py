"""Store events as Textual messages.

:class:`StoreChanged` carries a :class:`~tasktui.store.StoreEvent`; :func:`forward_events`
subscribes a widget or screen so that every event of the store arrives in its message
queue (the store calls back synchronously, the UI handles it in the loop).
"""

from __future__ import annotations

from typing import Callable

from textual.message import Message
from textual.message_pump import MessagePump

from tasktui.store import StoreEvent, TaskStore

__all__ = ["StoreChanged", "forward_events"]


class StoreChanged(Message):
    """A store event, delivered as a Textual message."""

    def __init__(self, event: StoreEvent) -> None:
        super().__init__()
        self.event = event


def forward_events(store: TaskStore, target: MessagePump) -> Callable[[], None]:
    """Post every event of ``store`` to ``target`` as :class:`StoreChanged`; returns the
    unsubscribe function."""
    return store.subscribe(lambda event: target.post_message(StoreChanged(event)))
