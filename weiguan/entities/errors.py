"""The failures a request can end in. Each has the stable `code` of docs/api.md; the web
layer maps codes to HTTP statuses. Adapters translate their own exceptions into these
(a unique-index violation into Duplicate, a lost connection into Unavailable)."""
from . import messages


class AppError(Exception):
    code = 'internal_error'
    default_message = messages.INTERNAL_ERROR

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class Fail(AppError):
    code = 'fail'
    default_message = messages.FAIL


class Duplicate(AppError):
    code = 'duplicate'
    default_message = messages.DUPLICATE
    field: str | None = None  # the unique field that clashed, when the adapter knows it


class InvalidParam(AppError):
    code = 'invalid_param'
    default_message = messages.INVALID_PARAM


class NotAuthenticated(AppError):
    code = 'not_authenticated'
    default_message = messages.NOT_AUTHENTICATED


class Forbidden(AppError):
    code = 'forbidden'
    default_message = messages.FORBIDDEN


class NotFound(AppError):
    code = 'not_found'
    default_message = messages.NOT_FOUND


class PayloadTooLarge(AppError):
    code = 'payload_too_large'
    default_message = messages.PAYLOAD_TOO_LARGE


class TooManyRequests(AppError):
    code = 'too_many_requests'
    default_message = messages.TOO_MANY_REQUESTS

    def __init__(self, retry_after: int, message: str | None = None,
                 limit: str = 'other'):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.limit = limit  # the rule that refused, e.g. login:ip (for the metrics)


class Unavailable(AppError):
    code = 'unavailable'
    default_message = messages.UNAVAILABLE
