"""One run of a background job, observed: a span (when tracing is on), the run
counted by outcome, failures counted, its duration timed. The scheduler runs every
job through it; a worker process taking jobs from a queue would do the same, with
the `carrier` the enqueuing request left in the job (`JobRunner.carrier()`), so the
run's span links to that request's trace."""
from time import perf_counter
from typing import Awaitable, Callable, Mapping, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind

from .metrics import Metrics
from .tracing import Tracing

T = TypeVar('T')


class JobRunner:
    def __init__(self, metrics: Metrics | None = None, tracing: Tracing | None = None):
        self.metrics = metrics
        self.tracing = tracing

    def carrier(self) -> dict[str, str]:
        """The current trace context, to store with a job being enqueued."""
        return self.tracing.carrier() if self.tracing else {}

    async def run(self, name: str, job: Callable[[], Awaitable[T]],
                  carrier: Mapping[str, str] | None = None) -> T:
        if self.tracing is None:
            return await self._measured(name, job)
        links = []
        if carrier:
            origin = trace.get_current_span(self.tracing.extract(carrier)).get_span_context()
            if origin.is_valid:
                links.append(Link(origin))
        # Its own trace: a scheduled run has no caller, and a queued one may run long
        # after its request ended (so a link, not a parent).
        with self.tracing.span(f'job {name}', kind=SpanKind.CONSUMER if carrier
                               else SpanKind.INTERNAL, links=links, context=Context(),
                               attributes={'job.name': name}):
            return await self._measured(name, job)

    async def _measured(self, name: str, job: Callable[[], Awaitable[T]]) -> T:
        started, outcome = perf_counter(), 'failed'
        try:
            result = await job()
            outcome = 'ok'
            return result
        finally:
            if self.metrics is not None:
                self.metrics.job_runs.labels(name, outcome).inc()
                self.metrics.job_duration.labels(name).observe(perf_counter() - started)
                if outcome == 'failed':
                    self.metrics.job_failures.labels(name).inc()
