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

from ..dependencies.metrics import UNMATCHED_ROUTE, Metrics
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


def _is_websocket(request: Request) -> bool:
    """A WebSocket handshake: its handler runs while the socket is open, so it is
    neither in flight nor timed here (the open socket gauge and its spans are).
    (Sanic's HTTP/1 reader has looked at the Upgrade header already.)"""
    return getattr(request.stream, 'upgrade_websocket', False)


def measured(metrics: Metrics) -> Callable[[Request, Handle], Awaitable[None]]:
    tally = metrics.tally

    async def observe(request: Request, handle: Handle) -> None:
        if _is_websocket(request):
            return await handle(request)
        started = tally.started()
        try:
            await handle(request)
        finally:
            tally.done(route_template(request), request.method, _status(request), started)
    return observe


def traced(tracing: Tracing, inner: Callable[[Request, Handle], Awaitable[None]] | None):
    """The SERVER span of each request: the caller's trace continued (W3C or B3),
    named by the route template once the request is routed, with its status."""
    tracer = tracing.tracer

    async def observe(request: Request, handle: Handle) -> None:
        if _is_websocket(request):  # the socket's own spans (blueprints/message.py)
            return await (inner(request, handle) if inner else handle(request))
        with tracer.start_as_current_span(
                request.method, context=tracing.extract(request.headers),
                kind=SpanKind.SERVER,
                attributes={'http.request.method': request.method,
                            'url.path': request.path}) as span:
            try:
                await (inner(request, handle) if inner else handle(request))
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
    """Sanic, with each request handled through `ctx.observe` (set by
    start_observing before the server starts)."""

    async def handle_request(self, request: Request) -> None:
        tally = self.ctx.tally  # metrics without tracing: inline, one frame less
        if tally is None or _is_websocket(request):
            return await self.ctx.observe(request, super().handle_request)
        started = tally.started()
        try:
            await super().handle_request(request)
        finally:
            tally.done(route_template(request), request.method, _status(request), started)


@documented('Prometheus metrics of the server (every worker process), in the text '
            'format. Not for the public internet: route it only to the monitoring.',
            responses={'200': {'description': 'The Prometheus text format.',
                               'content': {'text/plain': {'schema': {'type': 'string'}}}}})
async def metrics_endpoint(request: Request) -> HTTPResponse:
    metrics = request.app.ctx.container.metrics()
    return HTTPResponse(metrics.render(), content_type=metrics.content_type)


def install_observability(app: Sanic, config: dict) -> None:
    """The request id header of every answer, and GET /metrics when METRICS is on.
    The request metrics and span are wired at start (`start_observing`)."""
    def echo_request_id(request: Request, response: HTTPResponse) -> None:
        # plain, not async: Sanic then calls it without making a coroutine
        response.headers[REQUEST_ID_HEADER] = request_id(request)

    app.ctx.request_ids = RequestIds()
    app.register_middleware(echo_request_id, 'response', priority=-1001)
    if config['METRICS']:
        app.add_route(metrics_endpoint, '/metrics', methods=['GET'], name='metrics',
                      ctx_no_session=True)


def start_observing(app: Sanic, config: dict, tracing: Tracing | None) -> None:
    metrics = app.ctx.container.metrics() if config['METRICS'] else None
    app.ctx.tally = metrics.tally if metrics is not None and tracing is None else None
    if tracing is not None:
        app.ctx.observe = traced(tracing, metrics and measured(metrics))
    else:
        app.ctx.observe = lambda request, handle: handle(request)


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
