"""The job queue on Redis, on SAQ (why SAQ: docs/operations.md, "Running workers").

Any process enqueues (the web app, the CLI); `worker run` processes consume. A job
is a SAQ job keyed by a random id, holding its name, its keyword arguments and the
trace carrier of the request that enqueued it. Delivery is at least once:

- a failure is retried `retries` times, after `retry_delay` seconds doubling each
  time (capped at MAX_RETRY_DELAY), then given up (logged, counted as failed runs);
- a running job's heartbeat is written every third of `redelivery_timeout`; a job
  whose heartbeat is older than that (its worker was killed, or lost Redis) is swept
  back into the queue by any worker, within about `redelivery_timeout` twice plus
  the sweep's five-second wait for the dead worker to answer;
- on SIGTERM a worker takes no new job, lets the jobs in hand run for STOP_GRACE
  seconds, then cancels them and puts them back in the queue.

Every run goes through the JobRunner (span linked to the enqueuing request, job
metrics). An enqueue that cannot reach Redis raises Unavailable. The keys are under
`weiguan:` (`weiguan:jobs:*`, `weiguan:job:jobs:<id>`) except SAQ's abort marks
(`saq:abort:<id>`, five seconds, written by a sweep)."""
import asyncio
import logging
from typing import Any

from redis import asyncio as aioredis
from redis import exceptions as redis_errors
from saq.job import Job, Status
from saq.queue.redis import PubSubMultiplexer, RedisQueue
from saq.types import PartialTimersDict
from saq.worker import Worker

from ..entities.errors import Unavailable
from ..services.ports import JobFunction
from .jobs import JobRunner
from .kv import redis_error_kind

log = logging.getLogger(__name__)

PREFIX = 'weiguan'
QUEUE = 'jobs'
JOB_TIMEOUT = 900       # seconds one run may take before it is cancelled (and retried)
MAX_RETRY_DELAY = 300.0  # the longest wait before a retry, seconds
STOP_GRACE = 8          # seconds a stopping worker lets its jobs finish (docker: 10)
DEQUEUE_WAIT = 1.0      # seconds an idle slot blocks on the queue (a stop waits that)
KEPT = 60               # seconds a finished job's record stays in Redis (to look at)


def create_job_redis(uri: str) -> aioredis.Redis:
    """The queue's own client: SAQ reads bytes (the store's client decodes), and an
    idle worker's dequeue blocks DEQUEUE_WAIT, well within the socket timeout."""
    return aioredis.from_url(uri, socket_connect_timeout=2, socket_timeout=5,
                             health_check_interval=10)


class PrefixedQueue(RedisQueue):
    """SAQ's Redis queue with its keys under `weiguan:` (SAQ's own are `saq:...`)."""

    def __init__(self, redis: aioredis.Redis, name: str = QUEUE):
        super().__init__(redis, name=name)
        self._pubsub = PubSubMultiplexer(redis.pubsub(), prefix=self._job_prefix[:-1])

    @property
    def _job_prefix(self) -> str:
        return f'{PREFIX}:job:{self.name}:'

    def namespace(self, key: str) -> str:
        return f'{PREFIX}:{self.name}:{key}'

    def job_id(self, job_key: str) -> str:
        return f'{self._job_prefix}{job_key}'

    def job_key_from_id(self, job_id: str) -> str:
        return job_id[len(self._job_prefix):]


# SAQ's sweep script (saq/queue/redis.py): under the sweep lock, every active id
# with its record.
SWEEP_SCRIPT = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""


class SettledSweepQueue(PrefixedQueue):
    """SAQ's sweep, without its race with a dequeue (tobymao/saq#277): a dequeue
    moves the id into the active list, then the worker writes the record ACTIVE; a
    sweep in between saw a queued job in the active list, took it out of that list
    and wrote it ABORTING while the worker ran it, and once that worker died nothing
    would ever sweep the job again (lost). So a job that is in the active list but
    not ACTIVE is swept only when a later sweep (a second later at least) still finds
    it so; a stuck ACTIVE job (its heartbeat stopped) is swept at once, as before."""

    def __init__(self, redis: aioredis.Redis, name: str = QUEUE):
        super().__init__(redis, name=name)
        self._sweep_script = redis.register_script(SWEEP_SCRIPT)
        self._suspects: set[bytes] = set()  # not ACTIVE in the active list, last sweep

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        # nothing when another worker holds the sweep lock
        id_jobs = await self._sweep_script(keys=[self._sweep, self._active], args=[lock],
                                           client=self.redis)
        suspects, swept = set(), []
        for job_id, job_bytes in id_jobs:
            job = self.deserialize(job_bytes)
            if job is None:  # its record expired: nothing to run
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self._active, 0, job_id)
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                swept.append(job_id)
            elif job.stuck or (job.status != Status.ACTIVE and job_id in self._suspects):
                log.info('sweeping job %s (%s)', job.function, job.status)
                await self.abort(job, error=self.swept_error_message)
                try:
                    await job.refresh(abort)  # the worker, if alive, answers the abort
                except asyncio.TimeoutError:
                    pass
                if job.retryable:
                    await self.retry(job, error=self.swept_error_message)
                else:
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
                swept.append(job_id)
            elif job.status != Status.ACTIVE:
                suspects.add(job_id)
        self._suspects = suspects
        return [job_id.decode() for job_id in swept]


class _Worker(Worker):
    """SAQ's worker without its own signal handlers (the command owns SIGTERM), and
    with its upkeep loops stoppable at once (they sleep up to a sweep interval)."""
    SIGNALS: list = []
    upkeep_tasks: list[asyncio.Task] = []

    async def upkeep(self) -> list[asyncio.Task[None]]:
        self.upkeep_tasks = await super().upkeep()
        return self.upkeep_tasks


class RedisJobQueue:
    def __init__(self, client: aioredis.Redis, runner: JobRunner | None = None,
                 retries: int = 3, retry_delay: float = 1.0, redelivery_timeout: int = 30,
                 timeout: int = JOB_TIMEOUT, stop_grace: float = STOP_GRACE,
                 dequeue_wait: float = DEQUEUE_WAIT):
        self.client = client  # bytes replies (decode_responses off): SAQ's format
        self.queue = SettledSweepQueue(client)
        self.runner = runner or JobRunner()
        self.retries = retries
        self.retry_delay = retry_delay
        self.heartbeat = max(1, int(redelivery_timeout))
        self.timeout = timeout
        self.stop_grace = stop_grace
        self.dequeue_wait = dequeue_wait
        self.functions: dict[str, JobFunction] = {}

    def register(self, name: str, function: JobFunction) -> None:
        self.functions[name] = function

    async def enqueue(self, name: str, **arguments: Any) -> None:
        if name not in self.functions:
            raise LookupError(f'no job named {name!r}')
        job = Job(function=name, kwargs=arguments, timeout=self.timeout,
                  heartbeat=self.heartbeat, retries=self.retries + 1,  # SAQ: attempts
                  retry_delay=self.retry_delay, retry_backoff=MAX_RETRY_DELAY, ttl=KEPT,
                  meta={'carrier': self.runner.carrier()})
        try:
            await self.queue.enqueue(job)
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            log.warning('redis unavailable: job %s not queued: %s', name, error)
            if self.runner.metrics is not None:
                self.runner.metrics.count_redis_error(redis_error_kind(error))
            raise Unavailable() from error

    async def _run(self, context: dict, **arguments: Any) -> None:
        job: Job = context['job']
        function = self.functions[job.function]
        if job.heartbeat != self.heartbeat:  # this worker's setting rules its sweeps
            await job.update(heartbeat=self.heartbeat)
        beat = asyncio.create_task(self._beat(job))
        try:
            await self.runner.run(job.function, lambda: function(**arguments),
                                  job.meta.get('carrier'))
        finally:
            beat.cancel()

    async def _beat(self, job: Job) -> None:
        """The heartbeat of a running job: a sweep re-queues it once this stops."""
        while True:
            await asyncio.sleep(self.heartbeat / 3)
            try:
                await job.update()
            except Exception:  # Redis away: the next beat tries again
                log.warning('job %s: heartbeat not written', job.function, exc_info=True)

    async def work(self, concurrency: int, stop: asyncio.Event) -> None:
        await self.queue.connect()
        sweep = max(1, self.heartbeat // 2)
        timers: PartialTimersDict = {'sweep': sweep, 'abort': 1, 'schedule': 1,
                                     'worker_info': 10}
        worker = _Worker(self.queue, [(name, self._run) for name in self.functions],
                         concurrency=concurrency, dequeue_timeout=self.dequeue_wait,
                         timers=timers,
                         shutdown_grace_period_s=int(self.stop_grace))
        running = asyncio.create_task(worker.start())
        log.info('worker started: %d slots, jobs %s', concurrency,
                 ', '.join(sorted(self.functions)) or 'none')
        await stop.wait()
        log.info('worker stopping: the jobs in hand get %s s', self.stop_grace)
        while not running.done():  # start() makes its event after its first await
            for task in worker.upkeep_tasks:
                task.cancel()
            worker.event.set()
            await asyncio.wait([running], timeout=0.1)
        await running

    async def drain(self, poll: float = 0.02) -> None:
        """Until no job is queued, running or waiting for a retry (tests: with a
        worker consuming, the effects of every job enqueued so far are in)."""
        while await self.queue.count('incomplete'):
            await asyncio.sleep(poll)

    async def close(self) -> None:
        try:
            await self.queue.disconnect()  # closes the client too
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as error:
            log.warning('redis unavailable while closing the job queue: %s', error)
