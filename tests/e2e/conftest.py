"""Fixtures of the end-to-end tests: a real server on a free port, HTTP clients, and
two server processes sharing the backends."""
import asyncio

import httpx
import pytest

from weiguan.web import app as web_app

from tests.support.faults import ServerProcess
from tests.support.servers import broken_blueprint, start_server, stop_server, test_config

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
async def broken_server(request, tmp_path, monkeypatch):
    """A server with one extra route, /broken, whose handler raises an error naming
    SQL and a secret; DEBUG comes from the (indirect) param."""
    monkeypatch.setattr(web_app, 'BLUEPRINTS', web_app.BLUEPRINTS + (broken_blueprint(),))
    handle, server = await start_server(test_config(tmp_path, DEBUG=request.param))
    yield server
    await stop_server(handle)


@pytest.fixture
async def two_servers(config, container, tmp_path):
    """Two `python -m weiguan.web.app` processes on the test's backends, ready."""
    servers = [ServerProcess(config, str(tmp_path / f'server{i}.log')) for i in (1, 2)]
    try:
        await asyncio.gather(*(s.wait_ready() for s in servers))
        yield servers
    finally:
        for server in servers:
            server.terminate()
            await server.wait_exit(20)
            server.kill()
