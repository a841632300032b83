"""POST endpoints read JSON only: the content types a page on another site can send
with the user's cookies and no CORS preflight (text/plain, forms) are refused with
400 `invalid_param` naming the type, and nothing changes."""
import json

import pytest

from weiguan.entities import messages

from tests.support import PASSWORD, call, register

pytestmark = pytest.mark.usefixtures('fast_passwords')

CROSS_SITE_TYPES = ['text/plain', 'text/plain;charset=UTF-8',
                    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']


def assert_refused(response, content_type: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body['code'] == 'invalid_param' and body['data'] == {}
    assert body['message'] == messages.BODY_NOT_JSON_TYPE.format(type=content_type)
    assert 'set-cookie' not in response.headers


@pytest.mark.parametrize('content_type', CROSS_SITE_TYPES)
async def test_a_cross_site_register_or_login_changes_nothing(client, make_client,
                                                              content_type):
    payload = json.dumps({'username': 'mallory', 'password': PASSWORD})
    response = await client.post('/account/register', content=payload,
                                 headers={'Content-Type': content_type})
    assert_refused(response, content_type)
    other = make_client()
    login = await call(other, 'POST', '/account/login', username='mallory',
                       password=PASSWORD)
    assert login['code'] == 'fail'  # nobody was registered


@pytest.mark.parametrize('content_type', CROSS_SITE_TYPES)
async def test_a_cross_site_post_cannot_act_as_the_user(make_client, content_type):
    alice, bob = make_client(), make_client()
    await register(alice, 'alice')
    target = await register(bob, 'bob')
    for path, payload in (('/account/modify', {'intro': 'pwned', 'password': 'pwned1234'}),
                          ('/user/follow', {'followingId': target['id']}),
                          ('/post/publish', {'type': 'text', 'text': 'spam'})):
        response = await alice.post(path, content=json.dumps(payload),
                                    headers={'Content-Type': content_type})
        assert_refused(response, content_type)
    me = (await call(alice, 'GET', '/account/info'))['data']['user']
    assert me['intro'] == '' and me['stat']['followingCount'] == 0
    assert me['stat']['postCount'] == 0
    relogin = await call(make_client(), 'POST', '/account/login', username='alice',
                         password=PASSWORD)
    assert relogin['code'] == 'ok'  # the password is unchanged


async def test_the_message_names_a_hostile_content_type_safely(client):
    response = await client.post('/account/login', content=b'{}',
                                 headers={'Content-Type': 'x' * 500 + '\x7f'})
    body = response.json()
    assert response.status_code == 400
    assert body['message'] == messages.BODY_NOT_JSON_TYPE.format(type='x' * 64)


async def test_json_with_parameters_and_json_suffix_types_are_read(client):
    for content_type in ('application/json; charset=utf-8', 'Application/JSON',
                         'application/vnd.weiguan+json'):
        response = await client.post('/account/login',
                                     headers={'Content-Type': content_type},
                                     content=b'{"username": "nobody", "password": "x1"}')
        assert response.json()['code'] == 'fail', content_type  # read, then refused


async def test_no_content_type_with_an_empty_body_reads_as_no_fields(client):
    await register(client, 'alice')
    response = await client.post('/account/modify')
    assert response.json()['code'] == 'ok'  # nothing to change
    response = await client.post('/user/follow')
    assert response.status_code == 400
    assert response.json()['message'].startswith('followingId:')  # the missing field


async def test_no_content_type_with_a_body_is_refused(client):
    await register(client, 'alice')
    response = await client.post('/account/modify', content=b'{"intro": "x"}',
                                 headers={'Content-Type': ''})
    assert response.status_code == 400
    assert response.json()['message'] == messages.BODY_NOT_JSON_TYPE.format(type='none')
    request = client.build_request('POST', '/account/modify', content=b'{"intro": "x"}')
    assert 'content-type' not in request.headers
    response = await client.send(request)
    assert response.status_code == 400
    assert response.json()['message'] == messages.BODY_NOT_JSON_TYPE.format(type='none')
