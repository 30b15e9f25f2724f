"""Typed errors of the API client.

Every error subclasses :class:`ApiError`; its ``str()`` is one sentence an operator can
read (what failed and what to do), never a traceback, and never contains the API key.
Text that came from the server (``server_message``) is cleaned by the hostile-text policy
(``tasktui.domain.text.clean_for_error``) and shortened, but it is still DATA: render it
with markup off.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base class: something went wrong talking to the task server.

    Attributes: ``status_code`` (HTTP status, None when there was no answer),
    ``server_message`` (the server's own explanation, cleaned), ``attempts`` (how many
    times the request was tried), ``retry_after`` (seconds the server asked us to wait).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        server_message: str | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.server_message = server_message
        self.attempts = attempts
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class AuthError(ApiError):
    """The server refused the API key (401 / 403)."""


class NotFoundError(ApiError):
    """The task (or other resource) does not exist (404)."""


class InvalidRequestError(ApiError):
    """The server refused the request as invalid (400 and other 4xx): a bad filter value,
    or an action the task's state forbids (cancel of a completed task)."""


class ConflictError(InvalidRequestError):
    """409: the unique id is already used by another task."""


class RateLimitedError(ApiError):
    """429 Too Many Requests, still refused after the retries allowed."""


class ServerError(ApiError):
    """5xx (or 408) from the server, still failing after the retries allowed."""


class NetworkError(ApiError):
    """No usable answer: connection refused or dropped, DNS failure, timeout."""


class MalformedResponseError(ApiError):
    """The server answered, but not with the JSON we expect (garbage, truncated body,
    an HTML page, an envelope with missing or mistyped keys)."""


class UnsupportedError(ApiError):
    """The server does not offer this feature (e.g. Fix against the real Scale API)."""


class AttachmentTooLargeError(ApiError):
    """An attachment is larger than the size cap of the preview."""


def malformed(what: str, reason: str, *, began: str | None = None, attempts: int = 1) -> MalformedResponseError:
    """The error for an answer that is not what we expect. ``began`` is the (already
    cleaned) start of the body, when it is worth showing: "" says it was empty."""
    head = "" if began is None else (f" It began: {began!r}." if began else " It was empty.")
    return MalformedResponseError(f"Could not {what}: {reason}.{head}", attempts=attempts)
