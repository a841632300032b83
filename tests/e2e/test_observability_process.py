"""The server as users run it (`python -m weiguan.web.app`), observed from outside:

- with LOG_FORMAT=json every line it writes is a JSON object, and a request's
  X-Request-ID is echoed and in that request's lines (with its trace id);
- with TRACING_EXPORTER=zipkin its spans reach a Zipkin v2 receiver (a local HTTP
  server in this test collecting /api/v2/spans), in the trace of the traceparent
  the request was sent with;
- with WG_WORKERS=2 /metrics counts the requests of both workers (prometheus-client's
  multiprocess mode, its folder under DATA_PATH, emptied at start)."""
import asyncio
import json
import os
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import REDIS_URI
from tests.support.faults import ServerProcess
from tests.support.zipkin_receiver import ZipkinReceiver

TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
TRACEPARENT = f'00-{TRACE_ID}-00f067aa0ba902b7-01'
REQUEST_ID = 'checkout-42'
LOG_KEYS = {'time', 'level', 'logger', 'message'}


@pytest.fixture
def zipkin():
    receiver = ZipkinReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
async def observed_server(config, container, tmp_path, zipkin):
    """JSON logs, access log on, spans to the receiver (exported within 0.2 s)."""
    server = ServerProcess(config, str(tmp_path / 'server.log'), WG_LOG_FORMAT='json',
                           WG_ACCESS_LOG='true', WG_TRACING_EXPORTER='zipkin',
                           WG_TRACING_ENDPOINT=zipkin.url, OTEL_BSP_SCHEDULE_DELAY='200')
    try:
        await server.wait_ready()
        yield server
    finally:
        server.terminate()
        await server.wait_exit(15)
        server.kill()


async def test_spans_reach_zipkin_in_the_trace_of_the_traceparent(observed_server, zipkin):
    async with httpx.AsyncClient(base_url=observed_server.url) as client:
        response = await client.post('/account/register', headers={
            'traceparent': TRACEPARENT}, json={'username': 'zoe', 'password': 'secret123'})
    assert response.json()['code'] == 'ok'
    spans = await zipkin.trace(TRACE_ID, 'POST /account/register')
    [root] = [s for s in spans if s['name'] == 'POST /account/register']
    assert root['kind'] == 'SERVER' and root['parentId'] == '00f067aa0ba902b7'
    assert root['tags']['http.route'] == '/account/register'
    children = [s for s in spans if s.get('parentId') == root['id']]
    assert any(s['tags'].get('db.statement', '').startswith('INSERT') for s in children)
    if REDIS_URI:
        assert any(s['tags'].get('db.system') == 'redis' for s in children)
    assert all(s['localEndpoint']['serviceName'] == 'weiguan' for s in spans)


async def test_every_log_line_is_json_and_carries_the_request_id(observed_server):
    async with httpx.AsyncClient(base_url=observed_server.url) as client:
        response = await client.get('/post/following', headers={
            'X-Request-ID': REQUEST_ID, 'traceparent': TRACEPARENT})
        assert response.headers['x-request-id'] == REQUEST_ID
        assert response.status_code == 401
    observed_server.terminate()
    assert await observed_server.wait_exit(15) == 0
    with open(observed_server.log_path, encoding='utf-8') as file:
        lines = file.read().splitlines()
    records = [json.loads(line) for line in lines]  # each line parses, or this fails
    assert all(LOG_KEYS <= set(record) for record in records), records
    loggers = {record['logger'] for record in records}
    assert {'sanic.root', 'sanic.server', 'sanic.access'} <= loggers
    mine = [r for r in records if r.get('request_id') == REQUEST_ID]
    [access] = [r for r in mine if r['logger'] == 'sanic.access']
    assert access['status'] == 401 and '/post/following' in access['message']
    assert all(r['trace_id'] == TRACE_ID for r in mine)
    # main() settles the collector once the server runs (runtime.settle_gc)
    assert any(r['logger'] == 'weiguan.web.app' and
               r['message'].startswith('garbage collector settled') for r in records)


async def test_a_traceback_is_one_json_line(config, tmp_path):
    """A server that cannot listen (an address this host does not have) fails at
    start: its tracebacks are each inside one JSON object."""
    server = ServerProcess(config, str(tmp_path / 'server.log'), WG_LOG_FORMAT='json',
                           WG_HOST='192.0.2.1')  # TEST-NET-1: never bound, no traffic
    try:
        assert await server.wait_exit(20) not in (None, 0)
    finally:
        server.kill()
    with open(server.log_path, encoding='utf-8') as file:
        records = [json.loads(line) for line in file.read().splitlines()]
    tracebacks = [r['traceback'] for r in records if 'traceback' in r]
    assert tracebacks and all(t.startswith('Traceback (most recent call last)')
                              and '\n' in t for t in tracebacks), records


async def test_two_workers_report_their_requests_together(config, container, tmp_path):
    stale = tmp_path / 'prometheus'
    stale.mkdir()
    (stale / 'counter_1.db').write_bytes(b'stale')  # a previous run's file
    server = ServerProcess(config, str(tmp_path / 'server.log'), WG_WORKERS='2')
    try:
        await server.wait_ready(timeout=40)
        assert not (stale / 'counter_1.db').exists()  # cleaned at start
        sent = 40
        for _ in range(sent):  # a connection each: the kernel spreads them over both
            async with httpx.AsyncClient(base_url=server.url) as client:
                assert (await client.get('/health')).status_code == 200
        # the worker that answers adds its own numbers at once, the other's within
        # a second (metrics.SAMPLE_INTERVAL)
        deadline = time.monotonic() + 10
        while (counted := await _health_count(server)) != sent and \
                time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert counted == sent
        pids = {name.rsplit('_', 1)[1] for name in os.listdir(stale)
                if name.startswith('counter_')}
        assert len(pids) == 2, pids  # both workers counted requests
    finally:
        server.terminate()
        await server.wait_exit(20)
        server.kill()


async def _health_count(server) -> float:
    async with httpx.AsyncClient(base_url=server.url) as client:
        text = (await client.get('/metrics')).text
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == 'weiguan_http_requests_total'
               and s.labels == {'method': 'GET', 'route': '/health', 'status': '200'})
