"""The JobQueue port's contract, run on the embedded default's in-process queue and on
the Redis queue (SAQ) with a worker consuming it in this loop: a job runs with its
arguments, a failing one is retried until it succeeds, an unknown name is refused at
enqueue, and every run is observed (the job metrics)."""
import asyncio
import time
from typing import AsyncIterator, Awaitable, Callable

import pytest

from weiguan.dependencies.job_queue import InProcessJobs
from weiguan.dependencies.jobs import JobRunner
from weiguan.dependencies.metrics import Metrics
from weiguan.dependencies.redis_jobs import RedisJobQueue, create_job_redis
from weiguan.entities.errors import Unavailable

from tests.support.servers import REDIS_URI, requires_redis


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for `condition`, polled, up to `timeout` seconds (then fail)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, 'condition not reached in time'
        await asyncio.sleep(0.02)


class Harness:
    """A queue and what runs its jobs (nothing more for the in-process queue; a
    worker task for the Redis one)."""

    def __init__(self, queue, metrics: Metrics, start: Callable[[], Awaitable[None]]):
        self.queue = queue
        self.metrics = metrics
        self.start = start

    def runs(self, name: str, outcome: str) -> float:
        return self.metrics.registry.get_sample_value(
            'weiguan_job_runs_total', {'job_name': name, 'outcome': outcome}) or 0


async def in_process() -> AsyncIterator[Harness]:
    metrics = Metrics()
    queue = InProcessJobs(JobRunner(metrics), retries=3, retry_delay=0.01)

    async def start() -> None:
        pass
    yield Harness(queue, metrics, start)
    await queue.close()


async def on_redis() -> AsyncIterator[Harness]:
    metrics = Metrics()
    client = create_job_redis(REDIS_URI or '')
    await client.flushdb()
    queue = RedisJobQueue(client, JobRunner(metrics), retries=3, retry_delay=0.05,
                          redelivery_timeout=2, stop_grace=2)
    stop, tasks = asyncio.Event(), []

    async def start() -> None:  # after the test registered its jobs
        tasks.append(asyncio.create_task(queue.work(4, stop)))
    yield Harness(queue, metrics, start)
    stop.set()
    await asyncio.gather(*tasks)
    await client.flushdb()
    await queue.close()


@pytest.fixture(params=['in_process', pytest.param('redis', marks=requires_redis)])
async def harness(request):
    make = in_process if request.param == 'in_process' else on_redis
    async for built in make():
        yield built


async def test_a_job_runs_with_its_arguments(harness):
    seen: list[dict] = []

    async def record(**arguments) -> None:
        seen.append(arguments)
    harness.queue.register('test.record', record)
    await harness.start()
    await harness.queue.enqueue('test.record', post_id=7, author_id=3)
    await harness.queue.enqueue('test.record', post_id=8, author_id=3)
    await until(lambda: len(seen) == 2)
    assert sorted(seen, key=lambda a: a['post_id']) == [{'post_id': 7, 'author_id': 3},
                                                         {'post_id': 8, 'author_id': 3}]


async def test_a_failing_job_is_retried_until_it_succeeds(harness):
    attempts: list[int] = []

    async def flaky(post_id: int) -> None:
        attempts.append(post_id)
        if len(attempts) < 3:
            raise RuntimeError('Redis away')
    harness.queue.register('test.flaky', flaky)
    await harness.start()
    await harness.queue.enqueue('test.flaky', post_id=5)
    await until(lambda: harness.runs('test.flaky', 'ok') == 1)
    assert attempts == [5, 5, 5]
    assert harness.runs('test.flaky', 'failed') == 2


async def test_a_job_failing_every_time_is_given_up_after_its_retries(harness):
    attempts: list[int] = []

    async def broken(post_id: int) -> None:
        attempts.append(post_id)
        raise RuntimeError('always')
    harness.queue.register('test.broken', broken)
    await harness.start()
    await harness.queue.enqueue('test.broken', post_id=1)
    await until(lambda: harness.runs('test.broken', 'failed') == 4)  # 1 + 3 retries
    await asyncio.sleep(0.5)  # no fifth attempt comes (nothing to poll for)
    assert attempts == [1] * 4


async def test_an_unknown_job_is_refused_at_enqueue(harness):
    await harness.start()
    with pytest.raises(LookupError):
        await harness.queue.enqueue('test.nobody_registered_this', post_id=1)


async def test_runs_are_observed(harness):
    async def quick(post_id: int) -> None:
        pass
    harness.queue.register('test.quick', quick)
    await harness.start()
    for post_id in range(3):
        await harness.queue.enqueue('test.quick', post_id=post_id)
    await until(lambda: harness.runs('test.quick', 'ok') == 3)
    assert harness.metrics.registry.get_sample_value(
        'weiguan_job_duration_seconds_count', {'job_name': 'test.quick'}) == 3
    assert harness.runs('test.quick', 'failed') == 0


async def test_the_redis_queue_out_of_reach_is_unavailable():
    metrics = Metrics()
    client = create_job_redis('redis://127.0.0.1:1/0')  # nothing listens on port 1
    queue = RedisJobQueue(client, JobRunner(metrics))
    queue.register('test.quick', lambda **arguments: asyncio.sleep(0))
    with pytest.raises(Unavailable):
        await queue.enqueue('test.quick', post_id=1)
    assert metrics.registry.get_sample_value('weiguan_redis_errors_total',
                                             {'kind': 'connection'}) == 1
    await queue.close()
