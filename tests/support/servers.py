"""The suite's settings and servers: the test configuration of the pass (SQLite and
in-process stores, or MariaDB + Redis when WG_TEST_MYSQL_HOST / WG_TEST_REDIS_URI are
set), backends reset between tests, and a real Sanic server on a free port."""
import asyncio
import inspect
import itertools
import os
import socket
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from weiguan.config import load_config
from weiguan.dependencies.tables import metadata
from weiguan.web.app import create_app
from weiguan.web.connections import GuardedProtocol

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
            MYSQL_DB=os.environ.get('WG_TEST_MYSQL_DB', 'weiguan_test'),
            # the pass on the other driver (scripts/test): WG_TEST_MYSQL_DRIVER=aiomysql
            MYSQL_DRIVER=os.environ.get('WG_TEST_MYSQL_DRIVER', 'asyncmy'))
    if REDIS_URI:
        settings['REDIS_URI'] = REDIS_URI
    settings.update(overrides)
    return load_config(env={}, **settings)


async def reset_backends(container) -> None:
    """Missing tables created, every row deleted, the test Redis database emptied.
    (create_all, not the migrations: a fraction of the time; tests/integration/test_migrations.py
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
    await _start_worker(app)
    port = sock.getsockname()[1]
    return server, RunningServer(app=app, url=f'http://127.0.0.1:{port}',
                                 container=app.ctx.container)


async def _start_worker(app) -> None:
    """On Redis, a worker consuming the server's job queue in this loop, as `worker
    run` does beside the servers in production (the embedded default runs its jobs in
    process and needs none)."""
    queue = app.ctx.container.job_queue()
    queue = await queue if inspect.isawaitable(queue) else queue
    app.ctx.test_worker = None
    if hasattr(queue, 'work'):
        # an idle slot blocks this long on the queue, and a stop waits for it: the
        # suite starts hundreds of servers (1 s, the default, is ~0.8 s a stop)
        queue.dequeue_wait = 0.05
        stop = asyncio.Event()
        app.ctx.test_worker = (stop, asyncio.create_task(queue.work(4, stop)))


async def stop_server(server) -> None:
    worker = getattr(server.app.ctx, 'test_worker', None)
    if worker is not None:
        stop, task = worker
        stop.set()
        await task
    await server.before_stop()
    await server.close()
    await server.after_stop()


BUG_DETAIL = 'SELECT password FROM user -- password=hunter2 at /srv/internal.py'


def broken_blueprint():
    from sanic import Blueprint
    broken = Blueprint(f'broken_{next(_app_names)}')

    @broken.get('/broken')
    async def fails(request):
        raise RuntimeError(BUG_DETAIL)
    return broken
