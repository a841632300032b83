"""GET /metrics, parsed with prometheus-client's own parser: the request counters
grow by the requests sent, labelled by route template; verify codes and rate-limit
refusals are counted; METRICS=false removes the route. And the request ids."""
import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from weiguan.container import build_container
from weiguan.dependencies.kv import RedisStore, create_redis
from weiguan.entities.errors import Duplicate, Unavailable

from tests.support.servers import reset_backends, start_server, stop_server
from tests.support.servers import test_config as config_for
from tests.support import call, logged_in, provided
from tests.support.ws_support import connect, receive


@asynccontextmanager
async def client_of(tmp_path, **overrides):
    """An HTTP client on a server with these settings (backends reset)."""
    config = config_for(tmp_path, **overrides)
    container = build_container(config)
    await container.init_resources()
    await reset_backends(container)
    handle, running = await start_server(config, container)
    try:
        async with httpx.AsyncClient(base_url=running.url) as client:
            yield client
    finally:
        await stop_server(handle)
        await container.shutdown_resources()


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a Prometheus text page."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def scrape(client) -> dict[tuple, float]:
    response = await client.get('/metrics')
    assert response.status_code == 200
    assert response.headers['content-type'].startswith('text/plain')
    return samples(response.text)


def value(page: dict, name: str, **labels) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


HEALTH = dict(route='/health', method='GET', status='200')


async def test_request_counters_grow_by_the_requests_sent(server, client):
    before = await scrape(client)
    for _ in range(3):
        await client.get('/health')
    await client.get('/user/info', params={'id': '12'})  # a route template, not a path
    after = await scrape(client)
    assert value(after, 'weiguan_http_requests_total', **HEALTH) - \
        value(before, 'weiguan_http_requests_total', **HEALTH) == 3
    assert value(after, 'weiguan_http_request_duration_seconds_count', **HEALTH) - \
        value(before, 'weiguan_http_request_duration_seconds_count', **HEALTH) == 3
    assert value(after, 'weiguan_http_requests_total', route='/user/info', method='GET',
                 status='401') == 1
    assert value(after, 'weiguan_http_requests_in_flight') == 1  # this scrape
    assert ('weiguan_db_pool_connections_in_use', (('pool', 'engine'),)) in after


async def test_verify_codes_and_rate_limit_refusals_are_counted(tmp_path):
    async with client_of(tmp_path, RATE_VERIFY_CODE_PER_IP=1) as client:
        sent = await call(client, 'POST', '/account/send/mobile/verify/code',
                          type='register', mobile='+8613800000001')
        assert sent['code'] == 'ok', sent
        refused = await call(client, 'POST', '/account/send/mobile/verify/code',
                             type='register', mobile='+8613800000002')
        assert refused['status'] == 429
        page = await scrape(client)
    assert value(page, 'weiguan_verify_codes_sent_total', channel='mobile') == 1
    assert value(page, 'weiguan_rate_limit_refusals_total', limit='verify_code:ip') == 1


async def test_metrics_false_turns_the_route_off(tmp_path):
    async with client_of(tmp_path, METRICS=False) as client:
        assert (await client.get('/metrics')).status_code == 404
        assert (await client.get('/health')).headers['x-request-id']


async def test_the_request_id_is_echoed_when_safe_and_made_otherwise(server, client):
    given = (await client.get('/health', headers={'X-Request-ID': 'abc-123.x'}))
    assert given.headers['x-request-id'] == 'abc-123.x'
    made = (await client.get('/health')).headers['x-request-id']
    assert len(made) == 32 and int(made, 16) >= 0
    for unsafe in ('x' * 129, 'a b', '<script>', ''):
        echoed = (await client.get('/health', headers={'X-Request-ID': unsafe}))
        assert echoed.headers['x-request-id'] not in (unsafe, made)
        assert len(echoed.headers['x-request-id']) == 32
    error = await client.get('/no/such', headers={'X-Request-ID': 'on-a-404'})
    assert error.headers['x-request-id'] == 'on-a-404'


@pytest.mark.parametrize('name', ['weiguan_db_errors_total', 'weiguan_redis_errors_total',
                                  'weiguan_job_runs_total', 'weiguan_websockets_open'])
async def test_every_family_is_described(server, client, name):
    families = {family.name for family in
                text_string_to_metric_families((await client.get('/metrics')).text)}
    assert name.removesuffix('_total') in families


async def test_open_websockets_are_a_gauge(server, make_client):
    client, _ = await logged_in(make_client, 'alice')
    async with connect(server, client) as ws:
        await receive(ws)  # welcome: the socket is in the hub
        assert value(await scrape(client), 'weiguan_websockets_open') == 1
    for _ in range(100):  # the server sees the close a moment later
        if value(await scrape(client), 'weiguan_websockets_open') == 0:
            break
        await asyncio.sleep(0.02)
    assert value(await scrape(client), 'weiguan_websockets_open') == 0


async def test_redis_and_database_errors_are_counted_by_kind(container):
    [metrics, users] = await provided(container, 'metrics', 'users')
    store = RedisStore(create_redis('redis://127.0.0.1:1/0'), metrics.count_redis_error)
    try:
        with pytest.raises(Unavailable):
            await store.get('k')  # nothing listens on port 1: refused
    finally:
        await store.close()
    await users.create('alice', 'hash')
    with pytest.raises(Duplicate):
        await users.create('alice', 'hash')
    page = samples(metrics.render().decode())
    assert value(page, 'weiguan_redis_errors_total', kind='connection') == 1
    assert value(page, 'weiguan_db_errors_total', kind='duplicate') == 1
