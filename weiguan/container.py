"""The composition root: the one place that knows concrete classes. It builds the
database, the key-value store, repositories, services and CLI commands for the web
app and the CLI alike. Resources (engine, Redis client) are created inside the
running loop by `init_resources()` and closed by `shutdown_resources()`."""
import inspect
import time
from types import ModuleType

from dependency_injector import containers, providers
from dependency_injector.wiring import unwire

from .cli.commands.files import FilesCommand
from .cli.commands.model import ModelCommand
from .cli.commands.schedule import ScheduleCommand
from .cli.commands.user import UserCommand
from .cli.commands.worker import WorkerCommand
from .config import thumb_path, upload_path
from .dependencies.cached_repositories import (CachedFileRepository, CachedPostRepository,
                                               CachedUserRepository)
from .dependencies.cached_social import (CachedFollowRepository, CachedLikeRepository,
                                         CachedStatRepository)
from .dependencies.local_rows import LocalRows
from .dependencies.jobs import JobRunner
from .dependencies.media import MediaInspector
from .dependencies.metrics import Metrics
from .dependencies.migrations import SchemaMigrations
from .dependencies.passwords import Argon2Hasher
from .dependencies.repositories.files import FileRepository
from .dependencies.repositories.follows import FollowRepository
from .dependencies.repositories.likes import LikeRepository
from .dependencies.repositories.posts import PostRepository
from .dependencies.repositories.stats import StatRepository
from .dependencies.repositories.users import UserRepository
from .dependencies.rate_counter import FixedWindowCounter
from .dependencies.sessions import SessionStore
from .dependencies.storage import LocalDisk
from .dependencies.video import VideoProbe
from .services.accounts import AccountService
from .services.credentials import CredentialService
from .services.file_links import FileLinks
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
from .services.feeds import FeedService
from .resources import (init_broker, init_code_senders, init_database, init_job_queue,
                        init_store, init_tracing, make_cache, make_feed_store,
                        make_job_locks, register_jobs)


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
    job_queue = providers.Resource(init_job_queue, redis_uri=config.REDIS_URI,
                                   runner=job_runner, retries=config.JOB_RETRIES,
                                   retry_delay=config.JOB_RETRY_DELAY,
                                   redelivery_timeout=config.JOB_REDELIVERY_TIMEOUT,
                                   database=database, store=store)
    feed_store = providers.Singleton(make_feed_store, store=store)

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

    # Profiles, files and stat rows cached (Redis, or this process on the embedded
    # default), post bodies in this process: dependencies/cached_repositories.py and
    # cached_social.py. The sql_* are the repositories behind the decorators.
    cache = providers.Singleton(make_cache, store=store, ttl=config.CACHE_TTL,
                                max_entries=config.CACHE_MAX_ENTRIES, metrics=metrics)
    sql_users = providers.Singleton(UserRepository, db=database)
    users = providers.Singleton(CachedUserRepository, sql=sql_users, cache=cache)
    sql_files = providers.Singleton(FileRepository, db=database)
    files = providers.Singleton(CachedFileRepository, sql=sql_files, cache=cache)
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
    sql_follows = providers.Singleton(FollowRepository, db=database)
    follows = providers.Singleton(CachedFollowRepository, sql=sql_follows, cache=cache)

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

    sql_posts = providers.Singleton(PostRepository, db=database)
    posts = providers.Singleton(CachedPostRepository, sql=sql_posts, cache=cache,
                                bodies=providers.Singleton(
                                    LocalRows, max_entries=config.CACHE_MAX_ENTRIES))
    sql_likes = providers.Singleton(LikeRepository, db=database)
    likes = providers.Singleton(CachedLikeRepository, sql=sql_likes, cache=cache)
    post_hydrator = providers.Singleton(PostHydrator, users=user_hydrator, likes=likes,
                                        links=file_links)
    feed_service = providers.Singleton(
        FeedService, store=feed_store, posts=posts, follows=follows, users=users,
        hydrator=post_hydrator, jobs=job_queue, max_items=config.FEED_MAX_ITEMS,
        active_days=config.FEED_ACTIVE_DAYS,
        fanout_max_followers=config.FANOUT_MAX_FOLLOWERS,
        batch_size=config.FANOUT_BATCH_SIZE, batches_in_flight=config.FANOUT_BATCHES_IN_FLIGHT)
    user_service = providers.Singleton(UserService, users=users, follows=follows,
                                       hydrator=user_hydrator, messages=message_service,
                                       feeds=feed_service)
    post_service = providers.Singleton(
        PostService, posts=posts, likes=likes, files=files, users=users,
        hydrator=post_hydrator, messages=message_service, feeds=feed_service)

    sql_stats = providers.Singleton(StatRepository, db=database)
    stats = providers.Singleton(CachedStatRepository, sql=sql_stats, cache=cache)
    stat_service = providers.Singleton(StatService, stats=stats)
    job_locks = providers.Singleton(make_job_locks, store=store)

    schema_migrations = providers.Singleton(SchemaMigrations, database=database)
    model_command = providers.Singleton(ModelCommand, migrations=schema_migrations)
    user_command = providers.Singleton(UserCommand, account_service=account_service)
    file_pruner = providers.Singleton(FilePruner, files=files, disk=disk,
                                      thumb_suffix=media.provided.thumb_suffix)
    files_command = providers.Singleton(FilesCommand, file_pruner=file_pruner)
    # (host, port) of the scheduler's and the worker's own /metrics, or None
    metrics_address = providers.Callable(lambda host, port: (host, port) if port else None,
                                         config.HOST, config.METRICS_PORT)
    schedule_command = providers.Singleton(
        ScheduleCommand, stat_service=stat_service, job_locks=job_locks,
        interval=config.STAT_INTERVAL, jobs=job_runner, metrics=metrics,
        metrics_address=metrics_address)

    # The services that own jobs (JobOwner: `jobs()`); `jobs` is the queue with all
    # of theirs registered, by `init_resources()` in every process: on the embedded
    # default the process then runs them; on Redis it only enqueues.
    job_owners = providers.List(feed_service)
    jobs = providers.Resource(register_jobs, queue=job_queue, owners=job_owners)
    worker_command = providers.Singleton(
        WorkerCommand, jobs=jobs, concurrency=config.WORKER_CONCURRENCY,
        nice=config.WORKER_NICE, metrics=metrics, metrics_address=metrics_address)


def build_container(config: dict) -> Container:
    container = Container()
    container.config.from_dict(config)
    return container


# What the web handlers are given (the `Provide[Container.x]` markers of the modules
# in web/blueprints, set by container.wire()) and what the session middleware calls.
HANDLER_SERVICES = ('account_service', 'credential_service', 'health_service',
                    'message_service', 'post_service', 'storage_service', 'user_service')


async def init_handler_services(container: Container) -> None:
    """Build each of HANDLER_SERVICES once, after `init_resources()`, and switch its
    provider's async mode off, so that calling it hands out the object itself.

    A provider that depends on an async resource (the database, the store) is in
    async mode: each call answers a Future. These are singletons: once built they
    hold their object, so with async mode off wiring sets the object itself, not an
    awaitable, where a blueprint's marker was."""
    for name in HANDLER_SERVICES:
        provider = container.providers[name]
        built = provider()
        if inspect.isawaitable(built):
            await built
        provider.disable_async_mode()


def wire_handlers(container: Container, package: ModuleType) -> None:
    """Set the `Provide[Container.x]` markers of the package's modules to this
    container's objects (after init_handler_services). Wiring is per process: a
    second app started in the same process (tests) re-points them to its own
    container, so the markers are restored first."""
    unwire(packages=[package])
    container.wire(packages=[package])
