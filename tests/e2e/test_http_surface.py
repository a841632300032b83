"""The HTTP surface outside the product's endpoints: the envelope on unknown routes,
the operating endpoints, the body limit, and what a bug looks like from outside."""

import httpx
import pytest

from weiguan.entities import messages

from tests.support.servers import BUG_DETAIL
from tests.support.servers import test_config as make_config



def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers['content-type'].startswith('application/json')
    body = response.json()
    assert set(body) == {'code', 'message', 'data'}
    assert body['code'] == code
    return body


async def test_unknown_path_is_a_not_found_envelope(client):
    for path in ('/nope', '/account/nope', '/account/info/extra', '/%2e%2e/etc/passwd'):
        body = assert_envelope(await client.get(path), 404, 'not_found')
        assert body['data'] == {}
    body = assert_envelope(await client.post('/nope', json={}), 404, 'not_found')
    assert body['message'] == messages.ROUTE_NOT_FOUND.format(method='POST', path='/nope')


async def test_wrong_method_is_a_not_found_envelope(client):
    response = await client.post('/account/info', json={})
    body = assert_envelope(response, 404, 'not_found')
    assert body['message'].startswith('No such route: POST /account/info')
    assert response.headers['Allow'] == 'GET'
    response = await client.get('/account/register')
    assert_envelope(response, 404, 'not_found')
    assert 'POST' in response.headers['Allow']


async def test_health(client):
    body = assert_envelope(await client.get('/health'), 200, 'ok')
    assert body == {'code': 'ok', 'message': '', 'data': {'status': 'ok'}}


async def test_ready_checks_database_and_cache(client):
    body = assert_envelope(await client.get('/ready'), 200, 'ok')
    assert body['data'] == {'database': True, 'cache': True}


class TestBodyLimit:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, JSON_BODY_MAX_SIZE=1024)

    async def test_a_body_over_the_limit_is_413(self, client):
        big = {'username': 'alice', 'password': 'secret123', 'pad': 'x' * 2000}
        response = await client.post('/account/register', json=big)
        body = assert_envelope(response, 413, 'payload_too_large')
        assert body['message'] == messages.PAYLOAD_TOO_LARGE
        # nothing was registered
        info = await client.get('/account/info')
        assert info.json()['data']['user'] is None

    async def test_a_body_under_the_limit_is_served(self, client):
        response = await client.post('/account/register',
                                     json={'username': 'alice', 'password': 'secret123',
                                           'pad': 'x' * 500})
        assert_envelope(response, 200, 'ok')

    async def test_a_chunked_body_over_the_limit_is_413(self, client):
        async def chunks():
            for _ in range(10):
                yield b'x' * 512
        response = await client.post('/account/register', content=chunks(),
                                     headers={'Content-Type': 'application/json'})
        assert_envelope(response, 413, 'payload_too_large')


@pytest.mark.parametrize('broken_server', [False], indirect=True)
async def test_a_bug_is_a_500_that_hides_internals(broken_server):
    async with httpx.AsyncClient(base_url=broken_server.url) as client:
        response = await client.get('/broken')
    body = assert_envelope(response, 500, 'internal_error')
    assert body == {'code': 'internal_error', 'message': messages.INTERNAL_ERROR,
                    'data': {}}
    assert 'hunter2' not in response.text and 'Traceback' not in response.text


@pytest.mark.parametrize('broken_server', [True], indirect=True)
async def test_a_bug_shows_its_traceback_in_debug(broken_server):
    async with httpx.AsyncClient(base_url=broken_server.url) as client:
        response = await client.get('/broken')
    body = assert_envelope(response, 500, 'internal_error')
    assert 'Traceback' in body['message']
    assert 'RuntimeError: ' + BUG_DETAIL in body['message']
