"""What every response carries (security headers, on errors and files too), CORS
(off by default, an allow-list when configured), and that no answer shows a stack
trace or SQL unless DEBUG is on: from a handler, from before routing, from the
session middleware, from a WebSocket handler."""
import asyncio
import io

import httpx
import orjson
import pytest
import websockets
from PIL import Image

from weiguan.web.sessions import new_sid

from tests.support.servers import start_server, stop_server
from tests.support.servers import test_config as make_config
from tests.support import register

SECURITY = {'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY',
            'referrer-policy': 'no-referrer'}
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
LEAKS = (b'Traceback', b'File "', b'sqlalchemy', b'SELECT', b'Error while handling')


def assert_secured(response: httpx.Response) -> None:
    for header, value in SECURITY.items():
        assert response.headers.get(header) == value, (header, response.headers)
    assert 'frame-ancestors' in response.headers['content-security-policy']


def assert_no_cors(response: httpx.Response) -> None:
    assert not [h for h in response.headers if h.lower().startswith('access-control-')]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new('RGB', (16, 16), 'blue').save(buffer, 'JPEG')
    return buffer.getvalue()


# --- security headers -----------------------------------------------------------------

async def test_api_answers_carry_the_headers_and_are_not_cached(client):
    for response in (await client.get('/health'), await client.get('/account/info'),
                     await client.get('/nope'), await client.post('/account/info', json={}),
                     await client.get('/user/info', params={'id': 1}),  # 401
                     await client.post('/account/register', json={'username': 1})):
        assert_secured(response)
        assert response.headers['content-security-policy'] == STRICT_CSP
        assert response.headers['cache-control'] == 'no-store'
        assert_no_cors(response)


async def test_files_carry_the_headers_and_keep_their_caching(client):
    await register(client)
    answer = await client.post('/storage/upload',
                               files=[('files', ('a.jpg', jpeg(), 'image/jpeg'))])
    url = answer.json()['data']['files'][0]['url']
    path = '/files/' + url.split('/files/', 1)[1]
    for response in (await client.get(path),
                     await client.get(path, params={'process': 'thumb-small'}),
                     await client.get('/files/default/missing.jpg')):
        assert_secured(response)
    response = await client.get(path)
    assert 'immutable' in response.headers['cache-control']
    not_modified = await client.get(path, headers={
        'If-Modified-Since': response.headers['last-modified']})
    assert not_modified.status_code == 304
    assert_secured(not_modified)


def policy(header: str) -> dict[str, set[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    directives = (d.split() for d in header.split(';') if d.strip())
    return {name: set(sources) for name, *sources in directives}


async def test_the_docs_page_policy_allows_its_own_assets_and_nothing_else(client):
    response = await client.get('/docs')
    assert_secured(response)
    assert policy(response.headers['content-security-policy']) == {
        'default-src': {"'none'"},
        'script-src': {"'self'"},  # swagger-ui-bundle.js and init.js; nothing inline
        'style-src': {"'self'"},
        'img-src': {"'self'", 'data:', 'blob:'},  # its icons; image answers shown
        'connect-src': {"'self'"},  # /openapi.json and try-it-out
        'base-uri': {"'none'"}, 'form-action': {"'none'"}, 'frame-ancestors': {"'none'"},
    }
    # Every other answer keeps the strict policy: the document, the page's assets
    # (scripts and styles are not documents: no policy of theirs applies), errors.
    for other in ('/health', '/openapi.json', '/docs/swagger-ui-bundle.js',
                  '/docs/swagger-ui.css', '/docs/init.js', '/docs/nope', '/nope'):
        answer = await client.get(other)
        assert answer.headers['content-security-policy'] == STRICT_CSP, other
        assert_secured(answer)
    asset = await client.get('/docs/swagger-ui.css')
    assert asset.headers['cache-control'] == 'public, max-age=3600'


class TestBodyLimit:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, REQUEST_MAX_SIZE=1024)

    async def test_a_413_carries_the_headers(self, client):
        response = await client.post('/account/register', json={'pad': 'x' * 2000})
        assert response.status_code == 413
        assert_secured(response)


async def raw_exchange(server, data: bytes) -> bytes:
    host, port = server.url.removeprefix('http://').split(':')
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 5)
    writer.close()
    return answer


@pytest.mark.parametrize('request_bytes', [
    b'GARBAGE\r\n\r\n',
    b'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n',
    b'GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
    b'POST /account/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n',
], ids=['request-line', 'content-length', 'header', 'transfer-encoding'])
async def test_requests_refused_before_routing_leak_nothing(server, request_bytes):
    answer = await raw_exchange(server, request_bytes)
    head, _, body = answer.partition(b'\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 4'), answer
    assert not any(leak in answer for leak in LEAKS), answer
    assert orjson.loads(body)['code'] == 'invalid_param'
    lower = head.lower()
    assert b'x-content-type-options: nosniff' in lower and b'x-frame-options: deny' in lower


# --- bugs, in handlers and in the session middleware ---------------------------------

@pytest.mark.parametrize('broken_server', [False], indirect=True)
async def test_a_500_leaks_nothing_and_carries_the_headers(broken_server):
    async with httpx.AsyncClient(base_url=broken_server.url) as client:
        response = await client.get('/broken')
    assert response.status_code == 500
    assert not any(leak in response.content for leak in LEAKS), response.text
    assert_secured(response)


@pytest.mark.parametrize('broken_server', [False], indirect=True)
async def test_a_failing_session_store_leaks_nothing(broken_server, monkeypatch):
    interface = broken_server.app.ctx.extensions['session'].interface

    async def fails(request):
        raise RuntimeError('redis said: WRONGTYPE at /srv/sessions.py')
    monkeypatch.setattr(interface, 'open', fails)
    async with httpx.AsyncClient(base_url=broken_server.url,
                                 cookies={'session': new_sid()}) as client:
        response = await client.get('/account/info')
    assert response.status_code == 500
    assert response.json()['code'] == 'internal_error'
    assert b'WRONGTYPE' not in response.content
    assert_secured(response)


async def test_a_failing_websocket_handler_closes_without_details(tmp_path):
    """The database is down: the session's credential check (or the handler) fails;
    the handshake is refused with a 503 envelope, or the socket closes, with no
    details either way."""
    handle, server = await start_server(make_config(tmp_path, MYSQL_HOST='127.0.0.1',
                                                    MYSQL_PORT=1))
    try:
        sid = new_sid()
        store = await server.container.store()
        await store.set('session:' + sid, orjson.dumps({'user_id': 1}).decode(), 60)
        url = server.url.replace('http://', 'ws://') + '/message/ws'
        try:
            async with websockets.connect(url, additional_headers={
                    'Cookie': f'session={sid}'}, open_timeout=5) as ws:
                frames = []
                with pytest.raises(websockets.ConnectionClosed):
                    while True:
                        frames.append(await asyncio.wait_for(ws.recv(), 5))
            assert ws.close_reason in ('', None)
        except websockets.InvalidStatus as refused:
            assert refused.response.status_code == 503
            frames = [refused.response.body.decode()]
            assert orjson.loads(refused.response.body)['code'] == 'unavailable'
        assert not any(leak.decode() in frame for frame in frames for leak in LEAKS)
    finally:
        await stop_server(handle)


# --- CORS --------------------------------------------------------------------------

PREFLIGHT = {'Access-Control-Request-Method': 'POST',
             'Access-Control-Request-Headers': 'content-type'}


async def test_cors_is_off_by_default(client):
    response = await client.options('/account/login', headers={
        'Origin': 'https://app.example', **PREFLIGHT})
    assert response.status_code == 404  # no route answers OPTIONS
    assert_no_cors(response)
    assert_no_cors(await client.get('/account/info',
                                    headers={'Origin': 'https://app.example'}))


class TestCorsAllowList:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path,
                           CORS_ORIGINS='https://app.example, https://admin.example/')

    async def test_a_listed_origin_passes_the_preflight_with_credentials(self, client):
        for origin in ('https://app.example', 'https://admin.example'):
            response = await client.options('/account/login', headers={
                'Origin': origin, **PREFLIGHT})
            assert response.status_code == 204
            assert response.headers['access-control-allow-origin'] == origin
            assert response.headers['access-control-allow-credentials'] == 'true'
            assert 'POST' in response.headers['access-control-allow-methods']
            allowed_headers = response.headers['access-control-allow-headers']
            assert allowed_headers.lower() == 'content-type, idempotency-key'
            assert 'origin' in response.headers['vary'].lower()
            assert_secured(response)
        files = await client.options('/files/default/a.jpg', headers={
            'Origin': 'https://app.example', 'Access-Control-Request-Method': 'GET'})
        assert files.status_code == 204
        assert files.headers['access-control-allow-methods'] == 'GET'

    async def test_other_origins_get_no_cors_headers(self, client):
        for origin in ('https://evil.example', 'https://app.example.evil.example',
                       'http://app.example', 'null'):
            response = await client.options('/account/login', headers={
                'Origin': origin, **PREFLIGHT})
            assert_no_cors(response)
            assert_no_cors(await client.get('/account/info', headers={'Origin': origin}))

    async def test_answers_to_a_listed_origin_are_readable(self, client):
        await register(client)
        response = await client.get('/account/info',
                                    headers={'Origin': 'https://app.example'})
        assert response.json()['data']['user']['username'] == 'alice'
        assert response.headers['access-control-allow-origin'] == 'https://app.example'
        assert response.headers['access-control-allow-credentials'] == 'true'
        assert 'retry-after' in response.headers['access-control-expose-headers'].lower()
        error = await client.get('/nope', headers={'Origin': 'https://app.example'})
        assert error.headers['access-control-allow-origin'] == 'https://app.example'
