"""The process's Prometheus metrics (prometheus-client), on a registry of their own
(no module-level state: tests build as many as they like).

The requests, the hot path, are not recorded with prometheus-client's own calls:
a labelled counter's and histogram's `inc`/`observe` take a lock each, and cost
~5 µs a request here, several per cent of /health. `RequestTally` counts them in
plain lists instead (the event loop is one thread), and `Metrics.sample()` folds the
tally into the prometheus-client metrics before each render, so what is served is
the same counter and histogram.

With several server processes (WORKERS > 1) prometheus-client's multiprocess mode is
used: `prepare_multiprocess_dir` runs in the parent before the workers start, each
worker writes its numbers to files in that folder (folding its tally every
SAMPLE_INTERVAL seconds), and any worker's /metrics adds up every worker's. Gauges
then sum the live processes ('livesum')."""
import os
import shutil
from bisect import bisect_left
from time import perf_counter
from typing import Callable

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest, start_http_server)
from prometheus_client import multiprocess

MULTIPROCESS_ENV = 'PROMETHEUS_MULTIPROC_DIR'
LATENCY_BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
JOB_BUCKETS = (.01, .1, .5, 1, 5, 10, 30, 60, 300, 900)
UNMATCHED_ROUTE = '<unmatched>'
SAMPLE_INTERVAL = 1  # seconds between two folds of a worker's numbers (multiprocess)


def multiprocess_dir(data_path: str) -> str:
    return os.path.abspath(os.path.join(data_path, 'prometheus'))


def prepare_multiprocess_dir(data_path: str) -> str:
    """An empty folder for the workers' files (a previous run's are stale), named in
    the environment the workers inherit: set before they import prometheus-client."""
    path = multiprocess_dir(data_path)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.environ[MULTIPROCESS_ENV] = path
    return path


def in_multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = registry = CollectorRegistry()
        by_request = ['route', 'method', 'status']
        self.requests = Counter('weiguan_http_requests_total', 'HTTP requests answered',
                                by_request, registry=registry)
        self.latency = Histogram('weiguan_http_request_duration_seconds',
                                 'Time from the request to its answer', by_request,
                                 buckets=LATENCY_BUCKETS, registry=registry)
        self.in_flight = Gauge('weiguan_http_requests_in_flight', 'Requests being handled',
                               multiprocess_mode='livesum', registry=registry)
        self.websockets = Gauge('weiguan_websockets_open', 'Open message WebSockets',
                                multiprocess_mode='livesum', registry=registry)
        self.pool_in_use = Gauge('weiguan_db_pool_connections_in_use',
                                 'Database connections checked out, per pool', ['pool'],
                                 multiprocess_mode='livesum', registry=registry)
        self.db_errors = Counter('weiguan_db_errors_total', 'Database failures, by kind',
                                 ['kind'], registry=registry)
        self.redis_errors = Counter('weiguan_redis_errors_total', 'Redis failures, by kind',
                                    ['kind'], registry=registry)
        self.job_runs = Counter('weiguan_job_runs_total', 'Job runs, by job and outcome',
                                ['job_name', 'outcome'], registry=registry)
        self.job_failures = Counter('weiguan_job_failures_total', 'Job runs that failed',
                                    ['job_name'], registry=registry)
        self.job_duration = Histogram('weiguan_job_duration_seconds', 'Job run time',
                                      ['job_name'], buckets=JOB_BUCKETS, registry=registry)
        self.verify_codes = Counter('weiguan_verify_codes_sent_total', 'Verify codes sent',
                                    ['channel'], registry=registry)
        self.rate_limited = Counter('weiguan_rate_limit_refusals_total',
                                    'Requests refused by a rate limit', ['limit'],
                                    registry=registry)
        self.tally = RequestTally(LATENCY_BUCKETS)
        self.samplers: list[Callable[['Metrics'], None]] = [_fold_requests]

    def count_db_error(self, kind: str) -> None:
        self.db_errors.labels(kind).inc()

    def count_redis_error(self, kind: str) -> None:
        self.redis_errors.labels(kind).inc()

    def count_code_sent(self, channel: str) -> None:
        self.verify_codes.labels(channel).inc()

    def count_refusal(self, limit: str) -> None:
        self.rate_limited.labels(limit).inc()

    def watch_pools(self, in_use: Callable[[], dict[str, int]]) -> None:
        """Sample the connections in use per pool before each render."""
        def sample(metrics: 'Metrics') -> None:
            for pool, count in in_use().items():
                metrics.pool_in_use.labels(pool).set(count)
        self.samplers.append(sample)

    def sample(self) -> None:
        """Bring the metrics up to date: the request tally, the pool gauges."""
        for sampler in self.samplers:
            sampler(self)

    def render(self) -> bytes:
        """The text format; every worker's numbers in multiprocess mode."""
        self.sample()
        if in_multiprocess_mode():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def serve(self, host: str, port: int) -> None:
        """/metrics on a port of its own, in a thread (for a process that serves no
        HTTP otherwise: the scheduler)."""
        start_http_server(port, host, registry=self.registry)

    @staticmethod
    def process_stopped(pid: int) -> None:
        """Drop a stopped worker's live gauges (its counters stay counted)."""
        if in_multiprocess_mode():
            multiprocess.mark_process_dead(pid)


class RequestTally:
    """The requests since the last fold, per (route, method, status): [count, sum of
    seconds, count per latency bucket]; and the requests in flight. Only the event
    loop's thread touches it."""
    __slots__ = ('bounds', 'rows', 'in_flight')

    def __init__(self, buckets: tuple[float, ...]):
        self.bounds = (*buckets, float('inf'))
        self.rows: dict[tuple, list] = {}
        self.in_flight = 0

    def started(self) -> float:
        self.in_flight += 1
        return perf_counter()

    def done(self, route: str, method: str, status: int, started: float) -> None:
        self.in_flight -= 1
        seconds = perf_counter() - started
        row = self.rows.get((route, method, status))
        if row is None:
            row = self.rows[(route, method, status)] = [0, 0.0] + [0] * len(self.bounds)
        row[0] += 1
        row[1] += seconds
        row[2 + bisect_left(self.bounds, seconds)] += 1  # the first bound >= seconds


def _fold_requests(metrics: Metrics) -> None:
    """Add the tally to the request counter and histogram, and empty it. The
    histogram's bucket and sum values are added to directly (what `observe` does
    one observation at a time; prometheus-client is pinned)."""
    tally = metrics.tally
    metrics.in_flight.set(tally.in_flight)
    for (route, method, status), row in tally.rows.items():
        count = row[0]
        if not count:
            continue
        labels = (route, method, str(status))
        metrics.requests.labels(*labels).inc(count)
        histogram = metrics.latency.labels(*labels)
        histogram._sum.inc(row[1])
        for index, bucket_count in enumerate(row[2:]):
            if bucket_count:
                histogram._buckets[index].inc(bucket_count)
        row[:] = [0, 0.0] + [0] * len(tally.bounds)
