"""Spans, on OpenTelemetry's in-memory exporter: a timeline request is one SERVER
span named by its route template, continuing the caller's trace (W3C or B3), with a
child per SQL statement (engine and driver paths) and per Redis command; job runs,
WebSocket connects and delivered notices have spans of their own."""
import asyncio

import pytest
from dependency_injector import providers
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from weiguan.container import build_container
from weiguan.dependencies.jobs import JobRunner
from weiguan.dependencies.metrics import Metrics
from weiguan.dependencies.tracing import Tracing

from tests.support.servers import MYSQL_HOST, REDIS_URI, reset_backends
from tests.support import call, logged_in
from tests.support.ws_support import connect, receive

TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
PARENT_ID = 'b7ad6b7169203331'
TRACEPARENT = f'00-{TRACE_ID}-{PARENT_ID}-01'


@pytest.fixture
def exporter():
    return InMemorySpanExporter()


@pytest.fixture
async def container(config, exporter):
    """The container of this module's servers: it traces to the in-memory exporter."""
    container = build_container(config)
    container.tracing.override(providers.Object(
        Tracing(SimpleSpanProcessor(exporter), 'weiguan-test')))
    await container.init_resources()
    await reset_backends(container)
    yield container
    await container.shutdown_resources()


def _hex(number: int, width: int) -> str:
    return format(number, f'0{width}x')


async def _request_spans(exporter, name: str):
    """The SERVER span named `name` and the spans under it, by parent. (The span
    ends just after the answer is sent: it is awaited, within a bound.)"""
    for _ in range(200):
        spans = exporter.get_finished_spans()
        servers = [s for s in spans if s.kind == SpanKind.SERVER and s.name == name]
        if servers:
            break
        await asyncio.sleep(0.01)
    assert servers, [(s.name, s.kind) for s in spans]
    [server] = servers
    children = [s for s in spans if s.parent is not None
                and s.parent.span_id == server.context.span_id]
    return server, children


async def test_a_timeline_request_is_a_server_span_with_its_sql_and_redis_children(
        server, exporter, make_client):
    client, _ = await logged_in(make_client, 'alice')
    other, bob = await logged_in(make_client, 'bob')
    assert (await call(client, 'POST', '/user/follow', followingId=bob['id']))['code'] == 'ok'
    assert (await call(other, 'POST', '/post/publish', type='text', text='hi'))['code'] == 'ok'
    exporter.clear()

    response = await client.get('/post/following', headers={'traceparent': TRACEPARENT})
    assert response.json()['data']['total'] == 1

    root, children = await _request_spans(exporter, 'GET /post/following')
    assert _hex(root.context.trace_id, 32) == TRACE_ID  # the caller's trace, continued
    assert _hex(root.parent.span_id, 16) == PARENT_ID
    assert root.attributes['http.route'] == '/post/following'
    assert root.attributes['http.response.status_code'] == 200
    assert all(child.context.trace_id == root.context.trace_id for child in children)
    sql = [c for c in children if c.attributes.get('db.statement', '').lstrip()
           .upper().startswith('SELECT')]
    assert len(sql) >= 2, [c.name for c in children]  # the page and its hydration
    assert all(c.kind == SpanKind.CLIENT for c in sql)
    if MYSQL_HOST:  # the hot reads run on the driver pool, not on the engine
        assert any(c.name == f'SELECT {server.app.ctx.config["MYSQL_DB"]}' for c in sql)
    if REDIS_URI:  # the session is read from Redis
        assert any(c.name == 'GET' and c.attributes.get('db.system') == 'redis'
                   for c in children), [c.name for c in children]


async def test_b3_headers_are_accepted_and_a_404_is_named_unmatched(server, exporter,
                                                                    client):
    await client.get('/no/such/route', headers={'X-B3-TraceId': TRACE_ID,
                                                'X-B3-SpanId': PARENT_ID,
                                                'X-B3-Sampled': '1'})
    root, _ = await _request_spans(exporter, 'GET <unmatched>')
    assert _hex(root.context.trace_id, 32) == TRACE_ID
    assert root.attributes['http.response.status_code'] == 404


async def test_a_like_on_the_prepared_transaction_path_has_its_statements(
        server, exporter, make_client):
    client, alice = await logged_in(make_client, 'alice')
    post = (await call(client, 'POST', '/post/publish', type='text', text='hi'))['data']
    exporter.clear()
    body = await call(client, 'POST', '/post/like', postId=post['post']['id'])
    assert body['code'] == 'ok', body
    root, children = await _request_spans(exporter, 'POST /post/like')
    statements = [c.attributes.get('db.statement', '').lstrip().split(None, 1)[0].upper()
                  for c in children if 'db.statement' in c.attributes
                  and c.attributes.get('db.system') != 'redis']
    assert 'INSERT' in statements and 'UPDATE' in statements, statements


async def test_websocket_connect_and_each_delivered_notice_have_spans(
        server, exporter, make_client):
    client, alice = await logged_in(make_client, 'alice')
    other, _ = await logged_in(make_client, 'bob')
    async with connect(server, client) as ws:
        await receive(ws)  # welcome
        assert (await call(other, 'POST', '/user/follow', followingId=alice['id']))['code'] == 'ok'
        await receive(ws)  # the follow notice
    await _request_spans(exporter, 'POST /user/follow')
    names = [s.name for s in exporter.get_finished_spans()]
    assert 'WebSocket connect' in names
    [notice] = [s for s in exporter.get_finished_spans() if s.name == 'WebSocket notice']
    assert notice.attributes['weiguan.user_id'] == alice['id']


async def test_a_job_run_is_a_span_linked_to_the_request_that_enqueued_it(exporter):
    tracing = Tracing(SimpleSpanProcessor(exporter), 'weiguan-test')
    metrics = Metrics()
    runner = JobRunner(metrics, tracing)
    with tracing.span('POST /enqueue', kind=SpanKind.SERVER) as request_span:
        carrier = runner.carrier()

    async def job():
        return 'done'
    assert await runner.run('stat_user', job, carrier) == 'done'

    async def failing():
        raise RuntimeError('boom')
    with pytest.raises(RuntimeError):
        await runner.run('stat_user', failing)

    runs = [s for s in exporter.get_finished_spans() if s.name == 'job stat_user']
    assert len(runs) == 2
    linked = runs[0]
    assert linked.parent is None  # a trace of its own...
    assert [link.context.span_id for link in linked.links] == \
        [request_span.get_span_context().span_id]  # ...linked to the request
    assert not runs[1].status.is_ok
    registry = metrics.registry
    assert registry.get_sample_value('weiguan_job_runs_total',
                                     {'job_name': 'stat_user', 'outcome': 'ok'}) == 1
    assert registry.get_sample_value('weiguan_job_failures_total',
                                     {'job_name': 'stat_user'}) == 1
    assert registry.get_sample_value('weiguan_job_duration_seconds_count',
                                     {'job_name': 'stat_user'}) == 2
