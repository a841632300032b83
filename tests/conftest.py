"""Test fixtures. One suite, two backends:

- embedded default (nothing set): SQLite in a temporary folder, in-process stores;
- MariaDB + Redis when WG_TEST_MYSQL_HOST / WG_TEST_REDIS_URI are set (see README).

End-to-end tests start a real Sanic server on a free port and talk HTTP to it.
"""
import itertools
import os
import socket
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from dependency_injector import providers

from weiguan.config import load_config
from weiguan.container import build_container
from weiguan.dependencies.passwords import Argon2Hasher
from weiguan.dependencies.tables import metadata
from weiguan.web.app import create_app
from weiguan.web.connections import GuardedProtocol

from . import contract

MYSQL_HOST = os.environ.get('WG_TEST_MYSQL_HOST')
REDIS_URI = os.environ.get('WG_TEST_REDIS_URI')
_app_names = itertools.count()

requires_mysql = pytest.mark.skipif(not MYSQL_HOST, reason='needs WG_TEST_MYSQL_HOST')
requires_redis = pytest.mark.skipif(not REDIS_URI, reason='needs WG_TEST_REDIS_URI')


# Every test client is 127.0.0.1 and many tests register, log in, send codes and
# upload a lot: rate limits stay far out of reach unless a test sets them.
GENEROUS_LIMITS = dict(RATE_LOGIN_FAILURES_PER_IP=10_000,
                       RATE_LOGIN_FAILURES_PER_ACCOUNT=10_000, RATE_REGISTER_PER_IP=10_000,
                       RATE_VERIFY_CODE_PER_IP=10_000, RATE_UPLOAD_PER_USER=10_000)


def test_config(tmp_path, **overrides) -> dict:
    settings = dict(DATA_PATH=str(tmp_path), ACCESS_LOG=False, DB_CREATE_TABLES=False,
                    UPLOAD_FILE_URL_BASE='http://testserver/files', **GENEROUS_LIMITS)
    if MYSQL_HOST:
        settings.update(
            MYSQL_HOST=MYSQL_HOST,
            MYSQL_PORT=int(os.environ.get('WG_TEST_MYSQL_PORT', 3306)),
            MYSQL_USER=os.environ.get('WG_TEST_MYSQL_USER', 'root'),
            MYSQL_PASSWORD=os.environ.get('WG_TEST_MYSQL_PASSWORD', ''),
            MYSQL_DB=os.environ.get('WG_TEST_MYSQL_DB', 'weiguan_test'))
    if REDIS_URI:
        settings['REDIS_URI'] = REDIS_URI
    settings.update(overrides)
    return load_config(env={}, **settings)


@pytest.fixture(autouse=True)
def client_contract(monkeypatch):
    """Every answer and WebSocket frame any test receives is read as the app reads
    it (tests/contract.py); yields the violations found, which fail the test."""
    found: list[str] = []
    contract.watch_clients(monkeypatch, found)
    yield found
    assert not found, 'answers the app cannot parse:\n' + '\n'.join(found)


@pytest.fixture
def config(tmp_path) -> dict:
    return test_config(tmp_path)


async def reset_backends(container) -> None:
    """Missing tables created, every row deleted, the test Redis database emptied.
    (create_all, not the migrations: a fraction of the time; tests/test_migrations.py
    shows the two give one schema.)"""
    database = await container.database()
    async with database.transaction() as conn:
        await conn.run_sync(metadata.create_all)
        for table in reversed(metadata.sorted_tables):
            await conn.execute(sa.delete(table))
    store = await container.store()
    if hasattr(store, 'client'):
        await store.client.flushdb()


async def drop_schema(container) -> None:
    """Every table gone, the migrations' record included (an empty database)."""
    database = await container.database()
    async with database.schema_change() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.execute(sa.text('DROP TABLE IF EXISTS alembic_version'))


@pytest.fixture
async def bare_container(config):
    """A container on an empty database; the tables are dropped again after the test
    (the next test's reset_backends recreates them)."""
    container = build_container(config)
    await container.init_resources()
    await drop_schema(container)
    yield container
    await drop_schema(container)
    await container.shutdown_resources()


@pytest.fixture
async def container(config):
    container = build_container(config)
    await container.init_resources()
    await reset_backends(container)
    yield container
    await container.shutdown_resources()


@dataclass
class RunningServer:
    app: object
    url: str
    container: object


async def start_server(config: dict, container=None):
    """A real server on a free port of 127.0.0.1; returns (server handle, RunningServer)."""
    app = create_app(config, container=container, name=f'weiguan_test_{next(_app_names)}')
    # TouchUp rewrites Sanic's own methods at the first start in a process; a second
    # app in the same process then fails to rewrite them again.
    app.config.TOUCHUP = False
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(128)
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False,
                                     protocol=GuardedProtocol)
    await server.startup()
    await server.before_start()
    await server.after_start()
    port = sock.getsockname()[1]
    return server, RunningServer(app=app, url=f'http://127.0.0.1:{port}',
                                 container=app.ctx.container)


async def stop_server(server) -> None:
    await server.before_stop()
    await server.close()
    await server.after_stop()


@pytest.fixture
async def server(config, container):
    handle, running = await start_server(config, container)
    yield running
    await stop_server(handle)


@pytest.fixture
async def make_client(server):
    """make_client() -> a new HTTP client (own cookie jar) on the running server."""
    clients = []

    def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=server.url, timeout=30)
        clients.append(client)
        return client
    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def client(make_client) -> httpx.AsyncClient:
    return make_client()


@pytest.fixture
def fast_passwords(container):
    """Cheapest argon2 settings, for end-to-end tests about other things than
    passwords that register many users (the real cost is ~0.1 s of CPU a hash).
    Use before the server starts: @pytest.mark.usefixtures('fast_passwords')."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    container.hasher.override(providers.Object(Argon2Hasher(cheap)))
    yield
    container.hasher.reset_override()


BUG_DETAIL = 'SELECT password FROM user -- password=hunter2 at /srv/internal.py'


def _broken_blueprint():
    from sanic import Blueprint
    broken = Blueprint(f'broken_{next(_app_names)}')

    @broken.get('/broken')
    async def fails(request):
        raise RuntimeError(BUG_DETAIL)
    return broken


@pytest.fixture
async def broken_server(request, tmp_path, monkeypatch):
    """A server with one extra route, /broken, whose handler raises an error naming
    SQL and a secret; DEBUG comes from the (indirect) param."""
    from weiguan.web import app as web_app
    monkeypatch.setattr(web_app, 'BLUEPRINTS', web_app.BLUEPRINTS + (_broken_blueprint(),))
    handle, server = await start_server(test_config(tmp_path, DEBUG=request.param))
    yield server
    await stop_server(handle)
