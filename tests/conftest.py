"""Fixtures of every level. One suite, two backends:

- embedded default (nothing set): SQLite in a temporary folder, in-process stores;
- MariaDB + Redis when WG_TEST_MYSQL_HOST / WG_TEST_REDIS_URI are set (see README).

The settings and the servers are in tests/support/servers.py; the server fixtures of
the end-to-end tests in tests/e2e/conftest.py.
"""
import pytest
from argon2 import PasswordHasher
from dependency_injector import providers

from weiguan.container import build_container
from weiguan.dependencies.passwords import Argon2Hasher

from tests.support import contract
from tests.support.servers import drop_schema, reset_backends, test_config

@pytest.fixture(autouse=True)
def client_contract(monkeypatch):
    """Every answer and WebSocket frame any test receives is read as the app reads
    it (tests/support/contract.py); yields the violations found, which fail the test."""
    found: list[str] = []
    contract.watch_clients(monkeypatch, found)
    yield found
    assert not found, 'answers the app cannot parse:\n' + '\n'.join(found)


@pytest.fixture
def config(tmp_path) -> dict:
    return test_config(tmp_path)


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


@pytest.fixture
def fast_passwords(container):
    """Cheapest argon2 settings, for end-to-end tests about other things than
    passwords that register many users (the real cost is ~0.1 s of CPU a hash).
    Use before the server starts: @pytest.mark.usefixtures('fast_passwords')."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    container.hasher.override(providers.Object(Argon2Hasher(cheap)))
    yield
    container.hasher.reset_override()
