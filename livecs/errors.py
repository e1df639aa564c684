"""The error hierarchy of livecs: every error the project raises derives from :class:`LivecsError`.

An error carries its message in Chinese (``zh``, shown to operators, the streamer and the merchant) and in
English (``en``, for logs and API clients), a :class:`ErrorCode` saying what kind of failure it is, and any
extra fields the caller should see (``extra``, e.g. the forbidden ``terms`` of a refused reply). An error
raised with one message (an internal one, usually English) uses it for both.

Nothing here knows about HTTP: the console maps each code to a status in one place
(:data:`livecs.console.views.errors.HTTP_STATUS`). Errors that are also a built-in kind keep that base too
(``ConfigError`` is a ``ValueError``, the bus's errors are ``ConnectionError``), so existing ``except``
clauses still catch them.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorCode(enum.StrEnum):
    """What kind of failure an error is (the console answers each with one HTTP status)."""

    #: the request or input is well-formed but not acceptable (an empty reply, a wrong mark, a bad value)
    INVALID = "invalid"
    #: not the kind of request expected at all (not JSON, not a form upload, an unknown websocket view)
    BAD_REQUEST = "bad_request"
    #: the user's role may not do this
    FORBIDDEN = "forbidden"
    #: the thing asked for does not exist (an item left the queue, an unknown version, ticket or session)
    NOT_FOUND = "not_found"
    #: the current state does not allow it (already handled, taken by another operator, ticket closed)
    CONFLICT = "conflict"
    #: the request is over a size limit
    TOO_LARGE = "too_large"
    #: a backend cannot be reached now; nothing was done, try again later
    UNAVAILABLE = "unavailable"
    #: an internal failure
    FAILED = "failed"


class LivecsError(Exception):
    """The base of every livecs error: ``zh`` / ``en`` messages, a :class:`ErrorCode` and ``extra`` fields.

    ``code`` defaults to the class's own (:attr:`code`); ``message`` overrides ``str(error)`` (by default
    ``"zh / en"``, or the one message when both are the same).
    """

    code: ErrorCode = ErrorCode.FAILED

    def __init__(
        self,
        zh: str,
        en: str | None = None,
        *,
        code: ErrorCode | None = None,
        message: str | None = None,
        **extra: Any,
    ) -> None:
        self.zh = zh
        self.en = zh if en is None else en
        if code is not None:
            self.code = code
        self.extra: dict[str, Any] = extra
        if message is None:
            message = self.zh if self.en == self.zh else f"{self.zh} / {self.en}"
        super().__init__(message)


class ConfirmationRequired(LivecsError):
    """An action that changes what goes live was asked for without its confirmation (say what is needed)."""

    code = ErrorCode.BAD_REQUEST


class ConfirmationStale(LivecsError):
    """The confirmation given no longer matches what the action would do now: something changed since the
    preview it was given for (preview again, then confirm)."""

    code = ErrorCode.CONFLICT
