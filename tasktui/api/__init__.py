"""Async client for the Scale v1 task API and the bundled server's extensions."""

from tasktui.api.client import (
    ALL_EXTENSIONS,
    IDEMPOTENCY_HEADER,
    USER_AGENT,
    Attachment,
    TaskClient,
    TaskPage,
)
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
    clean_text,
)
from tasktui.api.retry import RETRY_STATUSES, RetryPolicy, parse_retry_after

__all__ = [
    "ALL_EXTENSIONS", "IDEMPOTENCY_HEADER", "USER_AGENT", "Attachment", "TaskClient", "TaskPage",
    "ApiError", "AttachmentTooLargeError", "AuthError", "ConflictError", "InvalidRequestError",
    "MalformedResponseError", "NetworkError", "NotFoundError", "RateLimitedError", "ServerError",
    "UnsupportedError", "clean_text", "RETRY_STATUSES", "RetryPolicy", "parse_retry_after",
]
