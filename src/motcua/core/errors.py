"""Domain errors: a stable machine code plus a Vietnamese message.

Pure Python (no Django). Services raise these; the API maps them to 4xx responses with body
``{"code": ..., "message": ...}``, pages show the message next to the field.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user or client can cause.

    ``code`` is stable and machine-readable (snake_case, never translated); ``message`` is
    Vietnamese, for people. ``status`` is the HTTP status the API answers with.
    """

    code = "domain_error"
    status = 400
    default_message = "Yêu cầu không hợp lệ."

    def __init__(self, message: str | None = None, *, code: str | None = None, **details: Any):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    code = "invalid_input"
    default_message = "Dữ liệu không hợp lệ."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Không tìm thấy."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "Yêu cầu xung đột với dữ liệu hiện có."
