"""The composition root: the one place that knows concrete classes. It builds the
database, the key-value store, repositories, services and CLI commands for the web
app and the CLI alike. Resources (engine, Redis client) are created inside the
running loop by `init_resources()` and closed by `shutdown_resources()`."""
import inspect
import time
from types import SimpleNamespace
from typing import AsyncIterator, Iterator

import aiomysql

from dependency_injector import containers, providers

from .cli.commands.files import FilesCommand
from .cli.commands.model import ModelCommand
from .cli.commands.schedule import ScheduleCommand
from .cli.commands.user import UserCommand
from .config import thumb_path, upload_path
from .dependencies.database import Database, create_engine, create_driver_pool
from .dependencies.kv import MemoryStore, RedisStore, create_redis
from .dependencies.jobs import JobRunner
from .dependencies.locks import NoJobLocks, RedisJobLocks
from .dependencies.media import MediaInspector
from .dependencies.metrics import Metrics
from .dependencies.migrations import SchemaMigrations
from .dependencies.passwords import Argon2Hasher
from .dependencies.pubsub import MemoryBroker, RedisBroker
from .dependencies.repositories.files import FileRepository
from .dependencies.repositories.follows import FollowRepository
from .dependencies.repositories.likes import LikeRepository
from .dependencies.repositories.posts import PostRepository
from .dependencies.repositories.stats import StatRepository
from .dependencies.repositories.users import UserRepository
from .dependencies.rate_counter import FixedWindowCounter
from .dependencies.senders import (CodeSenders, CountedSender, LogCodeSender, SmtpCodeSender,
                                   WebhookSmsSender)
from .dependencies.sessions import SessionStore
from .dependencies.storage import LocalDisk
from .dependencies.tracing import Tracing, build_tracing
from .dependencies.video import VideoProbe
from .services.accounts import AccountService
from .services.credentials import CredentialService
from .services.files import FileLinks
from .services.health import HealthService
from .services.hydration import PostHydrator, UserHydrator
from .services.messages import MessageService
from .services.posts import PostService
from .services.pruning import FilePruner
from .services.rate_limits import Limit, RateLimiter
from .services.stats import StatService
from .services.storage import StorageService
from .services.users import UserService
from .services.verify_codes import VerifyCodeService


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
    cursor = aiomysql.Cursor
    if tracing is not None:
        tracing.instrument_engine(engine)
        cursor = tracing.driver_cursor(engine.url.database or '')
    size = pool_size + max_overflow
    database = Database(engine, await create_driver_pool(engine, size, cursor=cursor),
                        await create_driver_pool(engine, size, autocommit=False,
                                                 cursor=cursor),
                        timeout, count_error=metrics and metrics.count_db_error)
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
    store = (RedisStore(_redis(redis_uri, tracing), metrics and metrics.count_redis_error)
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


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    metrics = providers.Singleton(Metrics)
    tracing = providers.Resource(init_tracing, exporter=config.TRACING_EXPORTER,
                                 endpoint=config.TRACING_ENDPOINT,
                                 sample_ratio=config.TRACING_SAMPLE_RATIO,
                                 service_name=config.NAME)
    database = providers.Resource(init_database, url=config.DB_URL,
                                  pool_size=config.MYSQL_POOL_SIZE,
                                  max_overflow=config.MYSQL_POOL_MAX_OVERFLOW,
                                  timeout=config.MYSQL_TIMEOUT, tracing=tracing,
                                  metrics=metrics)
    store = providers.Resource(init_store, redis_uri=config.REDIS_URI, tracing=tracing,
                               metrics=metrics)
    broker = providers.Resource(init_broker, redis_uri=config.REDIS_URI, tracing=tracing)
    job_runner = providers.Singleton(JobRunner, metrics=metrics, tracing=tracing)

    clock = providers.Object(time.time)  # wall clock of session times; tests replace it
    hasher = providers.Singleton(Argon2Hasher)
    session_store = providers.Singleton(
        SessionStore, store=store, expiry=config.SESSION_EXPIRY,
        idle_expiry=config.SESSION_IDLE_EXPIRY,
        refresh_interval=config.SESSION_REFRESH_INTERVAL, clock=clock)
    rate_counter = providers.Singleton(FixedWindowCounter, store=store)
    rate_limiter = providers.Singleton(
        RateLimiter, counter=rate_counter,
        login_per_ip=providers.Factory(Limit, config.RATE_LOGIN_FAILURES_PER_IP,
                                       config.RATE_LOGIN_WINDOW),
        login_per_account=providers.Factory(Limit, config.RATE_LOGIN_FAILURES_PER_ACCOUNT,
                                            config.RATE_LOGIN_WINDOW),
        register_per_ip=providers.Factory(Limit, config.RATE_REGISTER_PER_IP,
                                          config.RATE_REGISTER_WINDOW),
        verify_code_per_ip=providers.Factory(Limit, config.RATE_VERIFY_CODE_PER_IP,
                                             config.RATE_VERIFY_CODE_WINDOW),
        upload_per_user=providers.Factory(Limit, config.RATE_UPLOAD_PER_USER,
                                          config.RATE_UPLOAD_WINDOW))
    code_sender = providers.Resource(init_code_senders, config=config, metrics=metrics)
    file_links = providers.Singleton(FileLinks, url_base=config.UPLOAD_FILE_URL_BASE)

    users = providers.Singleton(UserRepository, db=database)
    files = providers.Singleton(FileRepository, db=database)
    media = providers.Singleton(MediaInspector, max_pixels=config.IMAGE_MAX_PIXELS)
    video = providers.Singleton(VideoProbe, max_pixels=config.IMAGE_MAX_PIXELS,
                                timeout=config.VIDEO_PROBE_TIMEOUT)
    disk = providers.Singleton(LocalDisk, root=providers.Callable(upload_path, config),
                               cache_root=providers.Callable(thumb_path, config))
    storage_service = providers.Singleton(
        StorageService, files=files, disk=disk, media=media, video=video, links=file_links,
        max_size=config.UPLOAD_FILE_MAX_SIZE, max_number=config.UPLOAD_FILE_MAX_NUMBER,
        allow_other_types=config.UPLOAD_ALLOW_OTHER_TYPES,
        strip_metadata=config.UPLOAD_STRIP_METADATA, limits=rate_limiter)
    follows = providers.Singleton(FollowRepository, db=database)

    user_hydrator = providers.Singleton(UserHydrator, users=users, files=files,
                                        follows=follows, links=file_links)
    verify_codes = providers.Singleton(
        VerifyCodeService, store=store, sender=code_sender, ttl=config.VERIFY_CODE_TTL,
        resend_interval=config.VERIFY_CODE_RESEND_INTERVAL,
        max_tries=config.VERIFY_CODE_MAX_TRIES, echo=config.VERIFY_CODE_ECHO)
    credential_service = providers.Singleton(CredentialService, store=store, users=users)
    account_service = providers.Singleton(
        AccountService, users=users, files=files, hasher=hasher,
        verify_codes=verify_codes, hydrator=user_hydrator, limits=rate_limiter,
        sessions=session_store, credentials=credential_service)
    health_service = providers.Singleton(HealthService, database=database, store=store)
    message_service = providers.Singleton(MessageService, broker=broker, users=users)

    posts = providers.Singleton(PostRepository, db=database)
    likes = providers.Singleton(LikeRepository, db=database)
    post_hydrator = providers.Singleton(PostHydrator, users=user_hydrator, likes=likes,
                                        links=file_links)
    user_service = providers.Singleton(UserService, users=users, follows=follows,
                                       hydrator=user_hydrator, messages=message_service)
    post_service = providers.Singleton(
        PostService, posts=posts, likes=likes, files=files, users=users,
        hydrator=post_hydrator, messages=message_service)

    stats = providers.Singleton(StatRepository, db=database)
    stat_service = providers.Singleton(StatService, stats=stats)
    job_locks = providers.Singleton(make_job_locks, store=store)

    schema_migrations = providers.Singleton(SchemaMigrations, database=database)
    model_command = providers.Singleton(ModelCommand, migrations=schema_migrations)
    user_command = providers.Singleton(UserCommand, account_service=account_service)
    file_pruner = providers.Singleton(FilePruner, files=files, disk=disk,
                                      thumb_suffix=media.provided.thumb_suffix)
    files_command = providers.Singleton(FilesCommand, file_pruner=file_pruner)
    schedule_command = providers.Singleton(
        ScheduleCommand, stat_service=stat_service, job_locks=job_locks,
        interval=config.STAT_INTERVAL, jobs=job_runner, metrics=metrics,
        metrics_address=providers.Callable(
            lambda host, port: (host, port) if port else None,
            config.HOST, config.METRICS_PORT))


def build_container(config: dict) -> Container:
    container = Container()
    container.config.from_dict(config)
    return container


async def resolve(container: Container) -> SimpleNamespace:
    """Every `*_service` provider's object, built once after `init_resources()`
    (providers that depend on an async resource hand out awaitables; handlers then
    read plain objects from app.ctx.services)."""
    names = [name for name in container.providers if name.endswith('_service')]
    services = {}
    for name in names:
        service = getattr(container, name)()
        services[name] = await service if inspect.isawaitable(service) else service
    return SimpleNamespace(**services)
