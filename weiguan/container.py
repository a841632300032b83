"""The composition root: the one place that knows concrete classes. It builds the
database, the key-value store, repositories, services and CLI commands for the web
app and the CLI alike. Resources (engine, Redis client) are created inside the
running loop by `init_resources()` and closed by `shutdown_resources()`."""
import inspect
from types import SimpleNamespace
from typing import AsyncIterator

from dependency_injector import containers, providers

from .cli.commands.model import ModelCommand
from .dependencies.database import Database, create_engine
from .dependencies.kv import MemoryStore, RedisStore, create_redis
from .dependencies.passwords import Argon2Hasher
from .dependencies.pubsub import MemoryBroker
from .dependencies.repositories.files import FileRepository
from .dependencies.repositories.follows import FollowRepository
from .dependencies.repositories.users import UserRepository
from .dependencies.senders import LogCodeSender
from .services.accounts import AccountService
from .services.files import FileLinks
from .services.health import HealthService
from .services.hydration import UserHydrator
from .services.messages import MessageService
from .services.verify_codes import VerifyCodeService


async def init_database(url: str, pool_size: int, max_overflow: int) -> AsyncIterator[Database]:
    database = Database(create_engine(url, pool_size, max_overflow))
    yield database
    await database.dispose()


async def init_broker(redis_uri: str | None) -> AsyncIterator[MemoryBroker]:
    broker = MemoryBroker()  # Redis pub/sub arrives with the real-time issue
    yield broker
    await broker.close()


async def init_store(redis_uri: str | None) -> AsyncIterator[RedisStore | MemoryStore]:
    store = RedisStore(create_redis(redis_uri)) if redis_uri else MemoryStore()
    yield store
    await store.close()


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    database = providers.Resource(init_database, url=config.DB_URL,
                                  pool_size=config.MYSQL_POOL_SIZE,
                                  max_overflow=config.MYSQL_POOL_MAX_OVERFLOW)
    store = providers.Resource(init_store, redis_uri=config.REDIS_URI)
    broker = providers.Resource(init_broker, redis_uri=config.REDIS_URI)

    hasher = providers.Singleton(Argon2Hasher)
    code_sender = providers.Singleton(LogCodeSender)
    file_links = providers.Singleton(FileLinks, url_base=config.UPLOAD_FILE_URL_BASE)

    users = providers.Singleton(UserRepository, db=database)
    files = providers.Singleton(FileRepository, db=database)
    follows = providers.Singleton(FollowRepository, db=database)

    user_hydrator = providers.Singleton(UserHydrator, users=users, files=files,
                                        follows=follows, links=file_links)
    verify_codes = providers.Singleton(
        VerifyCodeService, store=store, sender=code_sender, ttl=config.VERIFY_CODE_TTL,
        resend_interval=config.VERIFY_CODE_RESEND_INTERVAL,
        max_tries=config.VERIFY_CODE_MAX_TRIES, echo=config.VERIFY_CODE_ECHO)
    account_service = providers.Singleton(
        AccountService, users=users, files=files, hasher=hasher,
        verify_codes=verify_codes, hydrator=user_hydrator)
    health_service = providers.Singleton(HealthService, database=database, store=store)
    message_service = providers.Singleton(MessageService, broker=broker, users=users)

    model_command = providers.Singleton(ModelCommand, database=database)


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
