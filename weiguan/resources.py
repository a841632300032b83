"""The resources and factories the container (weiguan/container.py) builds its
providers from: each knows which concrete adapter a setting selects, so it belongs
to the composition root, beside the container."""
from typing import AsyncIterator, Iterable, Iterator

from .dependencies.caches import MemoryCache, RedisCache
from .dependencies.database import Database, create_engine, create_driver_pool
from .dependencies.feeds_memory import MemoryFeeds
from .dependencies.feeds_redis import RedisFeeds
from .dependencies.job_queue import InProcessJobs
from .dependencies.jobs import JobRunner
from .dependencies.kv import MemoryStore, RedisStore, create_redis
from .dependencies.locks import NoJobLocks, RedisJobLocks
from .dependencies.metrics import Metrics
from .dependencies.pubsub import MemoryBroker, RedisBroker
from .dependencies.redis_jobs import RedisJobQueue, create_job_redis
from .dependencies.senders import (CodeSenders, CountedSender, LogCodeSender, SmtpCodeSender,
                                   WebhookSmsSender)
from .dependencies.tracing import Tracing, build_tracing
from .services.ports import JobOwner, JobQueue


def init_tracing(exporter: str, endpoint: str | None, sample_ratio: float,
                 service_name: str) -> Iterator[Tracing | None]:
    """None unless TRACING_EXPORTER names one: then nothing is instrumented at all."""
    tracing = build_tracing(exporter, endpoint, sample_ratio, service_name)
    yield tracing
    if tracing is not None:
        tracing.shutdown()  # exports the spans still queued


async def init_database(url: str, pool_size: int, max_overflow: int, timeout: int = 0,
                        tracing: Tracing | None = None,
                        metrics: Metrics | None = None) -> AsyncIterator[Database]:
    engine = create_engine(url, pool_size, max_overflow)
    cursor = None  # the driver's own
    if tracing is not None:
        tracing.instrument_engine(engine)
        cursor = tracing.driver_cursor(engine.url.database or '', engine.dialect.driver)
    size = pool_size + max_overflow
    database = Database(engine, await create_driver_pool(engine, size, cursor=cursor),
                        await create_driver_pool(engine, size, autocommit=False,
                                                 cursor=cursor),
                        timeout, count_error=metrics.count_db_error if metrics else None)
    if metrics is not None:
        metrics.watch_pools(database.connections_in_use)
    yield database
    await database.dispose()


def _redis(redis_uri: str, tracing: Tracing | None, **options):
    client = create_redis(redis_uri, **options)
    if tracing is not None:
        tracing.instrument_redis(client)
    return client


async def init_broker(redis_uri: str | None,
                      tracing: Tracing | None = None) -> AsyncIterator[RedisBroker | MemoryBroker]:
    broker: RedisBroker | MemoryBroker
    if redis_uri:
        # Its own client: a pub/sub connection blocks on reads, so no socket timeout.
        client = _redis(redis_uri, tracing, socket_timeout=None)
        broker = RedisBroker(client)
    else:
        client, broker = None, MemoryBroker()
    yield broker
    await broker.close()
    if client is not None:
        await client.aclose()


async def init_store(redis_uri: str | None, tracing: Tracing | None = None,
                     metrics: Metrics | None = None) -> AsyncIterator[RedisStore | MemoryStore]:
    store = (RedisStore(_redis(redis_uri, tracing),
                        metrics.count_redis_error if metrics else None)
             if redis_uri else MemoryStore())
    yield store
    await store.close()


async def init_code_senders(config: dict, metrics: Metrics) -> AsyncIterator[CountedSender]:
    """A sender per configured channel; the log sender for the others only while
    VERIFY_CODE_ECHO is on (development): in production a code is never logged.
    Each code delivered is counted for the metrics."""
    timeout = config['VERIFY_CODE_DELIVERY_TIMEOUT']
    email = config['SMTP_HOST'] and SmtpCodeSender(
        config['SMTP_HOST'], config['SMTP_PORT'], config['SMTP_FROM'],
        config['SMTP_USER'], config['SMTP_PASSWORD'], config['SMTP_STARTTLS'], timeout)
    mobile = config['SMS_WEBHOOK_URL'] and WebhookSmsSender(
        config['SMS_WEBHOOK_URL'], config['SMS_WEBHOOK_TOKEN'], timeout)
    senders = CodeSenders(email=email or None, mobile=mobile or None,
                          fallback=LogCodeSender() if config['VERIFY_CODE_ECHO'] else None)
    yield CountedSender(senders, metrics.count_code_sent)
    await senders.close()


def make_job_locks(store: RedisStore | MemoryStore) -> RedisJobLocks | NoJobLocks:
    """Schedulers on several hosts share Redis; alone on the embedded default
    there is nothing to lock against."""
    return RedisJobLocks(store.client) if isinstance(store, RedisStore) else NoJobLocks()


def make_feed_store(store: RedisStore | MemoryStore) -> RedisFeeds | MemoryFeeds:
    """The feeds live beside the store: on its Redis, or in process."""
    if isinstance(store, RedisStore):
        return RedisFeeds(store.client, store.count_error)
    return MemoryFeeds()


async def init_job_queue(redis_uri: str | None, runner: JobRunner, retries: int,
                         retry_delay: float, redelivery_timeout: int,
                         database: object = None, store: object = None
                         ) -> AsyncIterator[RedisJobQueue | InProcessJobs]:
    """On Redis, a queue that `worker run` processes consume; on the embedded
    default, tasks of this process. Jobs are registered by register_jobs().

    `database`, `store`: what the jobs use, named (not used here) so that the
    container closes the queue before them: the jobs running in this process finish
    before what they need is closed."""
    queue: RedisJobQueue | InProcessJobs
    if redis_uri:
        # Not traced: an idle worker's dequeue would be a span a second per slot (a
        # job's run is a span, linked to the request that enqueued it).
        client = create_job_redis(redis_uri)
        queue = RedisJobQueue(client, runner, retries, retry_delay, redelivery_timeout)
    else:
        queue = InProcessJobs(runner, retries, retry_delay)
    yield queue
    await queue.close()


def register_jobs(queue: JobQueue, owners: Iterable[JobOwner]) -> JobQueue:
    """Every job of every owner on the queue, by name: each process registers them
    all (an unknown name is refused at enqueue), and runs them where the queue says."""
    for owner in owners:
        for name, function in owner.jobs().items():
            queue.register(name, function)
    return queue


def make_cache(store: RedisStore | MemoryStore, ttl: int, max_entries: int,
               metrics: Metrics | None = None) -> RedisCache | MemoryCache:
    """The cache of profiles and files: in Redis beside the sessions, shared by every
    server process; in the process on the embedded default (one process)."""
    if isinstance(store, RedisStore):
        return RedisCache(store.client, ttl, max_entries,
                          metrics.count_redis_error if metrics else None)
    return MemoryCache(max_entries, ttl)
