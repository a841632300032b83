"""The envelope of API.md around every response, and the mapping of failures to it."""
import logging
import traceback

import orjson
from marshmallow import ValidationError
from sanic import HTTPResponse, Request
from sanic import exceptions as sanic_errors
from sanic.handlers import ErrorHandler

from ..entities import messages
from ..entities.errors import AppError, InvalidParam, TooManyRequests
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
             headers: dict | None = None) -> HTTPResponse:
    body = orjson.dumps({'code': code, 'message': message,
                         'data': {} if data is None else data})
    return EnvelopeResponse(body, status=STATUS[code], headers=headers,
                            content_type='application/json')


def ok(**data) -> HTTPResponse:
    return envelope(data=data)


def validation_message(error: ValidationError) -> str:
    """'field: problem' for the first problem found, the field named as on the wire."""
    def first(messages_, path=()):
        if isinstance(messages_, dict):
            for key, value in messages_.items():
                return first(value, path + (str(key),))
        if isinstance(messages_, list) and messages_:
            if isinstance(messages_[0], (dict, list)):
                return first(messages_[0], path)
            return path, str(messages_[0])
        return path, str(messages_)
    path, text = first(error.messages)
    path = tuple(p for p in path if p != '_schema')
    name = '.'.join(path) or 'body'
    return text if text.startswith(name + ':') else f'{name}: {text}'


def app_error_response(error: AppError) -> HTTPResponse:
    headers = None
    if isinstance(error, TooManyRequests):
        headers = {'Retry-After': str(error.retry_after)}
    return envelope(error.code, error.message, headers=headers)


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
            return envelope('payload_too_large', messages.PAYLOAD_TOO_LARGE)
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
