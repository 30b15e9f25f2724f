"""Async client for the Scale v1 task API and the bundled server's extensions."""

from tasktui.api.client import USER_AGENT, TaskClient
from tasktui.domain.wire import ALL_EXTENSIONS, IDEMPOTENCY_HEADER
from tasktui.api.errors import (
    ApiError,
    AttachmentTooLargeError,
    AuthError,
    ConflictError,
    InvalidRequestError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UnsupportedError,
)
from tasktui.api.page import Attachment, ListingHead, TaskPage
from tasktui.api.retry import RETRY_STATUSES, RetryPolicy, parse_retry_after
# Server text made fit for one line of an error message (the hostile-text policy's).
from tasktui.domain.text import clean_for_error as clean_text

__all__ = [
    "ALL_EXTENSIONS", "IDEMPOTENCY_HEADER", "USER_AGENT", "Attachment", "ListingHead", "TaskClient",
    "TaskPage",
    "ApiError", "AttachmentTooLargeError", "AuthError", "ConflictError", "InvalidRequestError",
    "MalformedResponseError", "NetworkError", "NotFoundError", "RateLimitedError", "ServerError",
    "UnsupportedError", "clean_text", "RETRY_STATUSES", "RetryPolicy", "parse_retry_after",
]
