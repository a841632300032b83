"""Distributed traces with the OpenTelemetry SDK: the process's tracer provider, its
exporter (Zipkin JSON, OTLP over HTTP, or one JSON line a span on stderr), and the
instrumentation of the database and Redis.

Nothing here is installed unless TRACING_EXPORTER names an exporter: with `none`
the container holds no Tracing at all, no statement or command is wrapped, and the
hot paths run as they would without this module.

- SQL on SQLAlchemy's engine: the contrib package's EngineTracer (engine events).
- SQL on the driver pools (prepared.py, database.py): those statements never pass
  the engine, so the pools get a cursor class whose `execute` is a CLIENT span named
  like the engine's ("SELECT weiguan").
- Redis: the contrib package's per-client instrumentation (it wraps redis-py 8's
  asyncio client and pipelines).

The provider is not made the global one: each container (and each test) has its
own. W3C traceparent and B3 (single and multi-header) are read on the way in; W3C
is written on the way out (job carriers)."""
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import aiomysql
from asyncmy.cursors import Cursor as AsyncmyCursor
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeter
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (BatchSpanProcessor, ConsoleSpanExporter,
                                            SpanExporter, SpanProcessor)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

DEFAULT_ENDPOINTS = {'zipkin': 'http://localhost:9411/api/v2/spans',
                     'otlp': 'http://localhost:4318/v1/traces'}
# B3 first: when a request carries both, the W3C header (extracted last) wins.
INCOMING = CompositePropagator([B3MultiFormat(), B3SingleFormat(),
                                TraceContextTextMapPropagator()])
OUTGOING = TraceContextTextMapPropagator()


def span_exporter(kind: str, endpoint: str | None) -> SpanExporter:
    endpoint = endpoint or DEFAULT_ENDPOINTS.get(kind)
    if kind == 'zipkin':
        from opentelemetry.exporter.zipkin.json import ZipkinExporter
        return ZipkinExporter(endpoint=endpoint)
    if kind == 'otlp':
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        return OTLPSpanExporter(endpoint=endpoint)
    if kind == 'console':  # one line a span, like every other line of the process
        return ConsoleSpanExporter(out=sys.stderr,
                                   formatter=lambda span: span.to_json(indent=None) + os.linesep)
    raise ValueError(f'unknown exporter {kind!r}')


class Tracing:
    def __init__(self, processor: SpanProcessor, service_name: str,
                 sample_ratio: float = 1.0):
        self.provider = TracerProvider(
            resource=Resource.create({'service.name': service_name}),
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer('weiguan')

    @staticmethod
    def extract(headers: Mapping[str, str]) -> Context:
        """The caller's context from W3C traceparent or B3 headers (or an empty one)."""
        return INCOMING.extract(headers)

    @staticmethod
    def carrier() -> dict[str, str]:
        """The current context as headers, for work handed to another process."""
        carrier: dict[str, str] = {}
        OUTGOING.inject(carrier)
        return carrier

    @contextmanager
    def span(self, name: str, kind: SpanKind = SpanKind.INTERNAL,
             **kwargs: Any) -> Iterator[trace.Span]:
        with self.tracer.start_as_current_span(name, kind=kind, **kwargs) as span:
            yield span

    @staticmethod
    def log_context() -> dict[str, str]:
        """The current trace and span ids, for log lines (none outside a span)."""
        context = trace.get_current_span().get_span_context()
        if not context.is_valid:
            return {}
        return {'trace_id': format(context.trace_id, '032x'),
                'span_id': format(context.span_id, '016x')}

    def instrument_engine(self, engine) -> None:
        """A span per statement on SQLAlchemy's engine (an AsyncEngine or a sync one)."""
        EngineTracer(self.tracer, getattr(engine, 'sync_engine', engine),
                     NoOpMeter('weiguan').create_up_down_counter('db.connections'))

    def instrument_redis(self, client) -> None:
        RedisInstrumentor.instrument_client(client, tracer_provider=self.provider)

    def driver_cursor(self, database: str, driver: str = 'asyncmy') -> type:
        """The cursor class of a driver pool (asyncmy's or aiomysql's): a CLIENT span
        per statement."""
        tracer = self.tracer
        attributes = {'db.system': 'mysql', 'db.name': database}
        base: type = AsyncmyCursor if driver == 'asyncmy' else aiomysql.Cursor

        class TracedCursor(base):  # type: ignore[valid-type,misc]
            async def execute(self, query: str, args=None) -> int:
                name = f'{query.lstrip().split(None, 1)[0].upper()} {database}'
                with tracer.start_as_current_span(
                        name, kind=SpanKind.CLIENT,
                        attributes={**attributes, 'db.statement': query}):
                    return await super().execute(query, args)
        return TracedCursor

    def shutdown(self) -> None:
        """Export what is still queued, then stop."""
        self.provider.shutdown()


def build_tracing(exporter: str, endpoint: str | None, sample_ratio: float,
                  service_name: str) -> Tracing | None:
    """The process's Tracing for TRACING_EXPORTER, batching its exports; None for none."""
    if exporter == 'none':
        return None
    return Tracing(BatchSpanProcessor(span_exporter(exporter, endpoint)), service_name,
                   sample_ratio)
