"""The Redis queue's sweep (dependencies/redis_jobs.py, SettledSweepQueue) against its
race with a dequeue: a job just moved into the active list, whose worker has not yet
written it ACTIVE, is left alone; one that stays so (its worker died in between) is
put back in the queue by the next sweep; a job its worker did start is never swept
while its heartbeat runs."""
import pytest
from saq.job import Status
from saq.utils import now

from weiguan.dependencies.redis_jobs import RedisJobQueue, create_job_redis

from tests.support.servers import REDIS_URI, requires_redis

pytestmark = requires_redis


@pytest.fixture
async def queue():
    client = create_job_redis(REDIS_URI or '')
    await client.flushdb()
    jobs = RedisJobQueue(client, redelivery_timeout=30)
    jobs.register('test.noop', lambda **arguments: None)
    yield jobs.queue
    await client.flushdb()
    await jobs.close()


async def half_dequeued(queue):
    """A job enqueued, then taken as a worker's dequeue takes it (BLMOVE into the
    active list), its record not yet written ACTIVE."""
    job = await queue.enqueue('test.noop')
    await queue.redis.lmove(queue._queued, queue._active, 'RIGHT', 'LEFT')
    return job


async def sweep(queue) -> list[str]:
    await queue.redis.delete(queue._sweep)  # the next sweep is due (its lock gone)
    return await queue.sweep(lock=30, abort=0.1)


async def test_a_job_being_dequeued_is_not_swept(queue):
    job = await half_dequeued(queue)
    assert await sweep(queue) == []
    assert await queue.redis.lrange(queue._active, 0, -1) == [job.id.encode()]
    job.started, job.attempts = now(), 1  # what the worker writes next
    await job.update(status=Status.ACTIVE)
    assert await sweep(queue) == []
    assert (await queue.job(job.key)).status == Status.ACTIVE


async def test_a_job_whose_worker_died_while_dequeuing_is_queued_again(queue):
    job = await half_dequeued(queue)
    assert await sweep(queue) == []
    assert await sweep(queue) == [job.id]
    again = await queue.job(job.key)
    assert again.status == Status.QUEUED and again.error == 'swept'
    assert await queue.redis.lrange(queue._active, 0, -1) == []
    assert await queue.redis.zscore(queue._incomplete, job.id) is not None  # retried
