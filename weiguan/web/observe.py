"""The web side of observability: request ids, the request metrics and the SERVER
span of each request, GET /metrics, and what log lines learn about the request.

The request metrics and the span wrap Sanic's `handle_request` (ObservedSanic), so
they see every request, a cancelled one too; with only metrics on that costs one
call and a few list additions (metrics.RequestTally), the route template read from
the matched route. The request id is made when something asks for it: the
response's header, or a log line."""
import itertools
import re
import secrets
from contextlib import nullcontext
from typing import Awaitable, Callable

from opentelemetry.trace import SpanKind, Status, StatusCode
from sanic import HTTPResponse, Request, Sanic
from sanic.exceptions import SanicException

from ..dependencies.metrics import UNMATCHED_ROUTE
from ..dependencies.tracing import Tracing
from .openapi import documented

REQUEST_ID_HEADER = 'X-Request-ID'
REQUEST_ID = re.compile(r'[A-Za-z0-9._:@=+-]{1,128}')  # else replaced by a fresh one
CLIENT_CLOSED = 499  # the status recorded for a request whose client went away

Handle = Callable[[Request], Awaitable[None]]


class RequestIds:
    """Fresh request ids: 32 hex digits, a random prefix of this process (80 bits)
    and a counter. Unique, cheap (no system call a request), not secret."""

    def __init__(self):
        self._prefix = secrets.token_hex(10)
        self._numbers = itertools.count(1)

    def __call__(self) -> str:
        return f'{self._prefix}{next(self._numbers):012x}'


def request_id(request: Request) -> str:
    """The client's X-Request-ID when it is safe to log and echo, else a new one."""
    rid = getattr(request.ctx, 'request_id', None)
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER)
        rid = (given if given and REQUEST_ID.fullmatch(given)
               else request.app.ctx.request_ids())
        request.ctx.request_id = rid
    return rid


def request_log_context() -> dict:
    """The request id (and user id, when logged in) of the request being handled."""
    try:
        request = Request.get_current()
    except SanicException:  # outside any request
        return {}
    context = {'request_id': request_id(request)}
    session = getattr(request.ctx, 'session', None)
    if session and session.get('user_id') is not None:
        context['user_id'] = session['user_id']
    return context


def route_template(request: Request) -> str:
    route = request.route
    return '/' + route.path if route is not None else UNMATCHED_ROUTE


def _status(request: Request) -> int:
    response = getattr(request.stream, 'response', None)
    return getattr(response, 'status', None) or CLIENT_CLOSED


def traced(tracing: Tracing) -> Callable[[Request, Handle], Awaitable[None]]:
    """The SERVER span of each request: the caller's trace continued (W3C or B3),
    named by the route template once the request is routed, with its status."""
    tracer = tracing.tracer

    async def observe(request: Request, handle: Handle) -> None:
        with tracer.start_as_current_span(
                request.method, context=tracing.extract(request.headers),
                kind=SpanKind.SERVER,
                attributes={'http.request.method': request.method,
                            'url.path': request.path}) as span:
            try:
                await handle(request)
            finally:
                template = route_template(request)
                status = _status(request)
                span.update_name(f'{request.method} {template}')
                span.set_attribute('http.route', template)
                span.set_attribute('http.response.status_code', status)
                span.set_attribute('weiguan.request_id', request_id(request))
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
    return observe


class ObservedSanic(Sanic):
    """Sanic, with each request counted in `ctx.tally` (metrics) and run in the
    span of `ctx.trace` (tracing), either of them None when off (set by
    start_observing before the server starts). Inline here, not in wrappers: a
    frame less on every request."""

    async def handle_request(self, request: Request) -> None:
        # A WebSocket handshake's handler runs while the socket is open: it is
        # neither in flight nor timed here (the open socket gauge and its spans
        # are). Sanic's HTTP/1 reader has looked at the Upgrade header already.
        if getattr(request.stream, 'upgrade_websocket', False):
            return await super().handle_request(request)
        tally, trace = self.ctx.tally, self.ctx.trace
        started = tally.started() if tally is not None else 0.0
        try:
            if trace is None:
                await super().handle_request(request)
            else:
                await trace(request, super().handle_request)
        finally:
            if tally is not None:
                tally.done(route_template(request), request.method, _status(request),
                           started)


@documented('Prometheus metrics of the server (every worker process), in the text '
            'format. Not for the public internet: route it only to the monitoring.',
            responses={'200': {'description': 'The Prometheus text format.',
                               'content': {'text/plain': {'schema': {'type': 'string'}}}}})
async def metrics_endpoint(request: Request) -> HTTPResponse:
    metrics = request.app.ctx.container.metrics()
    return HTTPResponse(metrics.render(), content_type=metrics.content_type)


def request_id_header(request: Request) -> tuple[str, str]:
    """The header that echoes the request id, added to every answer by the
    response middleware of web/security.py (one middleware for all the headers
    every answer carries: each middleware costs a call on every request)."""
    return REQUEST_ID_HEADER, request_id(request)


def install_observability(app: Sanic, config: dict) -> None:
    """Request ids, and GET /metrics when METRICS is on. The request metrics and
    span are wired at start (`start_observing`)."""
    app.ctx.request_ids = RequestIds()
    if config['METRICS']:
        app.add_route(metrics_endpoint, '/metrics', methods=['GET'], name='metrics',
                      ctx_no_session=True)


def start_observing(app: Sanic, config: dict, tracing: Tracing | None) -> None:
    app.ctx.tally = app.ctx.container.metrics().tally if config['METRICS'] else None
    app.ctx.trace = traced(tracing) if tracing is not None else None


def websocket_span(request: Request, name: str):
    """A SERVER span for the WebSocket handshake's work (continuing the caller's
    trace); nothing when tracing is off."""
    tracing = request.app.ctx.tracing
    if tracing is None:
        return nullcontext()
    return tracing.tracer.start_as_current_span(
        name, context=tracing.extract(request.headers), kind=SpanKind.SERVER,
        attributes={'http.route': route_template(request),
                    'weiguan.request_id': request_id(request)})
