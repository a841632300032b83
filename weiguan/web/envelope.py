"""The envelope of docs/api.md around every response, and the mapping of failures to it."""
import logging
import traceback

import orjson
from marshmallow import ValidationError
from sanic import HTTPResponse, Request
from sanic import exceptions as sanic_errors
from sanic.handlers import ErrorHandler

from ..entities import messages
from ..entities.errors import AppError, InvalidParam, TooManyRequests
from ..entities.inputs import validation_message
from .responses import EnvelopeResponse

log = logging.getLogger(__name__)

STATUS = {
    'ok': 200, 'fail': 200, 'duplicate': 200, 'invalid_param': 400,
    'not_authenticated': 401, 'forbidden': 403, 'not_found': 404,
    'payload_too_large': 413, 'too_many_requests': 429, 'internal_error': 500,
    'unavailable': 503,
}


def dumps(value) -> str:
    return orjson.dumps(value).decode()


def envelope(code: str = 'ok', message: str = '', data: dict | None = None,
             headers: dict | None = None, status: int | None = None) -> HTTPResponse:
    """`status` overrides the code's own where HTTP has a truer one (408, 414, 431)."""
    body = orjson.dumps({'code': code, 'message': message,
                         'data': {} if data is None else data})
    return EnvelopeResponse(body, status=status or STATUS[code], headers=headers,
                            content_type='application/json')


def ok(**data) -> HTTPResponse:
    return envelope(data=data)


def app_error_response(error: AppError) -> HTTPResponse:
    headers = None
    if isinstance(error, TooManyRequests):
        headers = {'Retry-After': str(error.retry_after)}
    return envelope(error.code, error.message, headers=headers)


def _head_too_large(request: Request) -> HTTPResponse:
    """431 when the headers are too large, 414 when the request line alone is
    (a long query string): not a 413, which speaks of the body."""
    buffer = getattr(request.stream, 'recv_buffer', b'') or b''
    limit = getattr(request.stream, 'HEADER_MAX_SIZE', 8192)
    if b'\r\n' not in bytes(buffer[:limit]):
        return envelope('invalid_param', messages.URI_TOO_LONG, status=414)
    return envelope('invalid_param', messages.HEADERS_TOO_LARGE, status=431)


class EnvelopeErrorHandler(ErrorHandler):
    """Every failure, ours or Sanic's, leaves as an envelope."""

    def __init__(self, debug: bool = False):
        super().__init__()
        self.show_tracebacks = debug  # not `debug`: Sanic resets that from its run mode

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        if isinstance(exception, TooManyRequests):
            request.app.ctx.container.metrics().count_refusal(exception.limit)
        if isinstance(exception, AppError):
            return app_error_response(exception)
        if isinstance(exception, ValidationError):
            return app_error_response(InvalidParam(validation_message(exception)))
        if isinstance(exception, sanic_errors.MethodNotAllowed):
            return envelope('not_found', messages.METHOD_NOT_ALLOWED.format(
                method=request.method, path=request.path,
                allowed=', '.join(sorted(exception.allowed_methods or ()))),
                headers={'Allow': ', '.join(sorted(exception.allowed_methods or ()))})
        if isinstance(exception, sanic_errors.NotFound):
            return envelope('not_found', messages.ROUTE_NOT_FOUND.format(
                method=request.method, path=request.path))
        if isinstance(exception, sanic_errors.PayloadTooLarge):
            if str(exception).startswith('Request header'):  # Sanic's words for it
                return _head_too_large(request)
            return envelope('payload_too_large', messages.PAYLOAD_TOO_LARGE)
        if isinstance(exception, (sanic_errors.RequestCancelled, ConnectionError)):
            log.info('client went away during %s %s', request.method, request.path)
            return envelope('invalid_param', messages.INVALID_PARAM)  # never sent
        if isinstance(exception, sanic_errors.RequestTimeout):  # web/connections.py
            return envelope('invalid_param', messages.REQUEST_TIMEOUT, status=408)
        if isinstance(exception, sanic_errors.ServiceUnavailable):  # RESPONSE_TIMEOUT
            return envelope('unavailable', messages.UNAVAILABLE)
        if isinstance(exception, sanic_errors.SanicException) and \
                400 <= (exception.status_code or 500) < 500:
            return envelope('invalid_param', str(exception) or messages.INVALID_PARAM)
        log.error('unhandled error on %s %s', request.method, request.path,
                  exc_info=exception)
        message = messages.INTERNAL_ERROR
        if self.show_tracebacks:
            message = ''.join(traceback.format_exception(exception))
        return envelope('internal_error', message)
