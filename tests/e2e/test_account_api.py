"""/account end to end: a real server, real HTTP, the backends of the pass."""
import re
from datetime import datetime

import httpx
import pytest

from weiguan.entities import messages

from tests.support.servers import test_config as make_config
from tests.support import PASSWORD, call, register

USER_KEYS = {'id', 'username', 'mobile', 'email', 'avatarId', 'intro', 'createdAt',
             'updatedAt', 'avatar', 'stat', 'isFollowing'}
STAT_KEYS = {'id', 'userId', 'postCount', 'likeCount', 'followingCount', 'followerCount',
             'createdAt', 'updatedAt'}


def session_cookie(response: httpx.Response, name: str = 'session') -> dict | None:
    """The Set-Cookie of the session: {'value': ..., attribute (lower case): value}."""
    for header in response.headers.get_list('set-cookie'):
        first, *attributes = [part.strip() for part in header.split(';')]
        key, _, value = first.partition('=')
        if key == name:
            cookie = {'value': value.strip('"')}
            for attribute in attributes:
                attr, _, attr_value = attribute.partition('=')
                cookie[attr.lower()] = attr_value or True
            return cookie
    return None


def with_cookie(server, sid: str) -> httpx.AsyncClient:
    """A fresh client that presents only the given session id."""
    return httpx.AsyncClient(base_url=server.url, cookies={'session': sid}, timeout=30)


async def info(client) -> dict | None:
    body = await call(client, 'GET', '/account/info')
    assert body['code'] == 'ok', body
    return body['data']['user']


async def send_code(client, target: str, channel: str = 'mobile', type: str = 'modify'):
    body = await call(client, 'POST', f'/account/send/{channel}/verify/code', type=type,
                      **{channel: target})
    assert body['code'] == 'ok', body
    return body['data']['verifyCode']


def assert_invalid(body: dict, field: str) -> None:
    assert body['status'] == 400, body
    assert body['code'] == 'invalid_param', body
    assert body['message'].startswith(field + ':'), body
    assert body['data'] == {}


# --- register ----------------------------------------------------------------

async def test_register_logs_in_and_shows_the_owner_view(client):
    body = await call(client, 'POST', '/account/register', username='alice',
                      password=PASSWORD)
    assert (body['status'], body['code'], body['message']) == (200, 'ok', '')
    user = body['data']['user']
    assert set(user) == USER_KEYS
    assert user['id'] > 0 and user['username'] == 'alice'
    assert (user['mobile'], user['email'], user['avatarId'], user['avatar']) == \
        (None, None, None, None)
    assert user['intro'] == '' and user['isFollowing'] is False
    assert set(user['stat']) == STAT_KEYS
    assert user['stat']['userId'] == user['id'] and user['stat']['postCount'] == 0
    for stamp in (user['createdAt'], user['updatedAt']):
        assert datetime.fromisoformat(stamp).utcoffset() is not None
    assert 'password' not in str(body)
    assert await info(client) == user


async def test_register_duplicate_username(client, make_client):
    await register(client, 'alice')
    body = await call(make_client(), 'POST', '/account/register', username='alice',
                      password='other1234')
    assert (body['status'], body['code'], body['message']) == \
        (200, 'duplicate', messages.USERNAME_TAKEN)
    body = await call(make_client(), 'POST', '/account/register', username='ALICE',
                      password='other1234')
    assert body['code'] == 'duplicate'


@pytest.mark.parametrize('username', ['ab', '1alice', '_alice', 'a' * 21, 'al ice',
                                      'alice!', '微观用户', '', 'a' * 10000])
async def test_register_invalid_username(client, username):
    body = await call(client, 'POST', '/account/register', username=username,
                      password=PASSWORD)
    assert_invalid(body, 'username')
    assert messages.USERNAME_RULE in body['message']


@pytest.mark.parametrize('password', ['short1', 'abcdefghij', '1234567890', 'a1' * 33,
                                      '', 'a1' * 5000])
async def test_register_invalid_password(client, password):
    body = await call(client, 'POST', '/account/register', username='alice',
                      password=password)
    assert_invalid(body, 'password')
    assert messages.PASSWORD_RULE in body['message']
    assert await info(client) is None


@pytest.mark.parametrize('payload, field', [
    ({}, 'username'),
    ({'password': PASSWORD}, 'username'),
    ({'username': 'alice'}, 'password'),
    ({'username': 123, 'password': PASSWORD}, 'username'),
    ({'username': None, 'password': PASSWORD}, 'username'),
    ({'username': ['alice'], 'password': PASSWORD}, 'username'),
    ({'username': {'a': 1}, 'password': PASSWORD}, 'username'),
    ({'username': 'alice', 'password': 12345678}, 'password'),
    ({'username': 'alice', 'password': True}, 'password'),
])
async def test_register_missing_fields_and_wrong_types(client, payload, field):
    response = await client.post('/account/register', json=payload)
    body = response.json() | {'status': response.status_code}
    assert_invalid(body, field)


@pytest.mark.parametrize('content, message', [
    (b'not json', messages.BODY_NOT_JSON),
    (b'{"username": "alice", "password": ', messages.BODY_NOT_JSON),
    (b'\xff\xfe\x00garbage', messages.BODY_NOT_JSON),
    (b'[' * 30000, messages.BODY_NOT_JSON),  # nested past orjson's depth, under 32 KB
    (b'["alice", "secret123"]', messages.BODY_NOT_OBJECT),
    (b'"alice"', messages.BODY_NOT_OBJECT),
    (b'42', messages.BODY_NOT_OBJECT),
    (b'null', messages.BODY_NOT_OBJECT),
])
async def test_register_body_not_a_json_object(client, content, message):
    response = await client.post('/account/register', content=content,
                                 headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert response.json() == {'code': 'invalid_param', 'message': message, 'data': {}}


# Concurrent registrations of one name (one user, the others `duplicate`, only the
# winner logged in): tests/e2e/test_races.py.


# --- login and logout -------------------------------------------------------------

async def test_login_by_username(client, make_client):
    alice = await register(client, 'alice')
    other = make_client()
    body = await call(other, 'POST', '/account/login', username='alice', password=PASSWORD)
    assert body['code'] == 'ok' and body['data']['user'] == alice
    assert await info(other) == alice


async def test_login_by_mobile(client, make_client):
    await register(client, 'alice')
    code = await send_code(client, '13800000000')
    body = await call(client, 'POST', '/account/modify', mobile='13800000000', code=code)
    assert body['code'] == 'ok', body
    other = make_client()
    body = await call(other, 'POST', '/account/login', mobile='13800000000',
                      password=PASSWORD)
    assert body['code'] == 'ok', body
    assert body['data']['user']['username'] == 'alice'
    assert body['data']['user']['mobile'] == '13800000000'


async def test_wrong_password_and_unknown_user_get_the_same_fail(client, make_client):
    await register(client, 'alice')
    stranger = make_client()
    answers = [
        await call(stranger, 'POST', '/account/login', username='alice', password='wrong1234'),
        await call(stranger, 'POST', '/account/login', username='nobody', password=PASSWORD),
        await call(stranger, 'POST', '/account/login', mobile='13900000000',
                   password=PASSWORD),
    ]
    for body in answers:
        assert (body['status'], body['code'], body['message'], body['data']) == \
            (200, 'fail', messages.BAD_CREDENTIALS, {})
    assert await info(stranger) is None


@pytest.mark.parametrize('payload, field', [
    ({'password': PASSWORD}, 'username'),
    ({'username': '', 'mobile': '', 'password': PASSWORD}, 'username'),
    ({'username': 'alice'}, 'password'),
    ({'username': 'a' * 1000, 'password': PASSWORD}, 'username'),
    ({'mobile': 13800000000, 'password': PASSWORD}, 'mobile'),
    ({'username': 'alice', 'password': ['x']}, 'password'),
    ({'username': 'alice', 'password': 'p' * 65}, 'password'),
])
async def test_login_invalid_params(client, payload, field):
    response = await client.post('/account/login', json=payload)
    assert_invalid(response.json() | {'status': response.status_code}, field)


async def test_logout_returns_the_user_then_info_is_null(client):
    alice = await register(client, 'alice')
    body = await call(client, 'GET', '/account/logout')
    assert body['code'] == 'ok' and body['data']['user'] == alice
    assert await info(client) is None
    body = await call(client, 'GET', '/account/logout')
    assert body['code'] == 'ok' and body['data']['user'] is None


async def test_info_without_login_is_null(client):
    body = await call(client, 'GET', '/account/info')
    assert (body['status'], body['code'], body['data']) == (200, 'ok', {'user': None})


# --- sessions ------------------------------------------------------------------

async def test_session_cookie_flags(client, config):
    response = await client.post('/account/register', json={'username': 'alice',
                                                            'password': PASSWORD})
    cookie = session_cookie(response)
    assert cookie is not None
    assert cookie['httponly'] is True
    assert cookie['samesite'] == 'Lax'
    assert int(cookie['max-age']) == config['SESSION_EXPIRY']
    assert cookie['path'] == '/'
    assert 'secure' not in cookie
    logout = session_cookie(await client.get('/account/logout'))
    assert 'secure' not in logout  # a Secure deletion over plain HTTP would be ignored


class TestSecureCookie:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, SESSION_COOKIE_SECURE=True, SESSION_EXPIRY=3600)

    async def test_secure_flag_and_expiry_follow_the_config(self, client):
        response = await client.post('/account/register', json={'username': 'alice',
                                                                'password': PASSWORD})
        cookie = session_cookie(response)
        assert cookie['secure'] is True and cookie['httponly'] is True
        assert int(cookie['max-age']) == 3600


async def test_requests_that_change_nothing_set_no_cookie(client):
    assert session_cookie(await client.get('/account/info')) is None
    await register(client, 'alice')
    response = await client.get('/account/info')
    assert response.json()['data']['user']['username'] == 'alice'
    assert session_cookie(response) is None  # no write back, no sliding expiry


async def test_session_id_changes_on_register_login_and_logout(server, client):
    first = session_cookie(await client.post(
        '/account/register', json={'username': 'alice', 'password': PASSWORD}))['value']
    second = session_cookie(await client.post(
        '/account/login', json={'username': 'alice', 'password': PASSWORD}))['value']
    assert first != second
    async with with_cookie(server, first) as replay:
        assert await info(replay) is None  # the id before login is dead
    async with with_cookie(server, second) as replay:
        assert (await info(replay))['username'] == 'alice'

    logout = session_cookie(await client.get('/account/logout'))
    assert logout['value'] != second
    async with with_cookie(server, second) as replay:
        assert await info(replay) is None  # logged out everywhere that id went


async def test_login_from_an_anonymous_session_gets_a_new_id(server, client):
    await register(client, 'alice')
    await client.get('/account/logout')
    anonymous = httpx.AsyncClient(base_url=server.url, timeout=30)
    async with anonymous:
        await send_code(anonymous, '13800000000')  # touches no session
        response = await anonymous.post('/account/login', json={'username': 'alice',
                                                                'password': PASSWORD})
        sid = session_cookie(response)['value']
        assert re.fullmatch(r'[A-Za-z0-9_-]{20,64}', sid)


@pytest.mark.parametrize('forged', ['A' * 43, 'forged-session-id-0000000000',
                                    '../../etc/passwd', 'x' * 500, ''])
async def test_an_unknown_session_id_is_not_adopted(server, forged):
    async with with_cookie(server, forged) as attacker:
        assert await info(attacker) is None
        response = await attacker.post('/account/register',
                                       json={'username': 'victim', 'password': PASSWORD})
        assert response.json()['code'] == 'ok'
        issued = session_cookie(response)['value']
        assert issued != forged
    async with with_cookie(server, forged) as replay:
        assert await info(replay) is None
    async with with_cookie(server, issued) as owner:
        assert (await info(owner))['username'] == 'victim'


async def test_session_stores_only_the_user_id(server, client, make_client):
    await register(client, 'alice')
    other = make_client()  # the same user logged in elsewhere changes the profile
    await call(other, 'POST', '/account/login', username='alice', password=PASSWORD)
    body = await call(other, 'POST', '/account/modify', intro='changed elsewhere')
    assert body['code'] == 'ok'
    assert (await info(client))['intro'] == 'changed elsewhere'


# --- modify ----------------------------------------------------------------------

async def test_modify_needs_login(client):
    body = await call(client, 'POST', '/account/modify', intro='x')
    assert (body['status'], body['code'], body['message']) == \
        (401, 'not_authenticated', messages.NOT_AUTHENTICATED)


async def test_modify_username_intro_and_password(client, make_client):
    alice = await register(client, 'alice')
    body = await call(client, 'POST', '/account/modify', username='alice2',
                      intro='hello 微观', password='newpass99')
    assert body['code'] == 'ok', body
    user = body['data']['user']
    assert (user['id'], user['username'], user['intro']) == (alice['id'], 'alice2',
                                                             'hello 微观')
    assert await info(client) == user
    stranger = make_client()
    old = await call(stranger, 'POST', '/account/login', username='alice2',
                     password=PASSWORD)
    assert old['code'] == 'fail'
    new = await call(stranger, 'POST', '/account/login', username='alice2',
                     password='newpass99')
    assert new['code'] == 'ok' and new['data']['user']['id'] == alice['id']
    gone = await call(stranger, 'POST', '/account/login', username='alice',
                      password='newpass99')
    assert gone['code'] == 'fail'


async def test_modify_with_an_empty_body_changes_nothing(client):
    alice = await register(client, 'alice')
    body = await call(client, 'POST', '/account/modify')
    assert body['code'] == 'ok'
    assert body['data']['user']['username'] == alice['username']


@pytest.mark.parametrize('payload, field', [
    ({'username': '1bad'}, 'username'),
    ({'password': 'short'}, 'password'),
    ({'intro': 'x' * 201}, 'intro'),
    ({'intro': 5}, 'intro'),
    ({'mobile': 'phone', 'code': '123456'}, 'mobile'),
    ({'email': 'not-an-email', 'code': '123456'}, 'email'),
    ({'mobile': '13800000000', 'code': '12345'}, 'code'),
    ({'mobile': '13800000000', 'code': 123456}, 'code'),
    ({'avatarId': '1'}, 'avatarId'),
    ({'avatarId': 0}, 'avatarId'),
    ({'avatarId': -3}, 'avatarId'),
    ({'avatarId': 2**31}, 'avatarId'),
    ({'avatarId': 1.5}, 'avatarId'),
    ({'avatarId': True}, 'avatarId'),
])
async def test_modify_invalid_params(client, payload, field):
    await register(client, 'alice')
    response = await client.post('/account/modify', json=payload)
    assert_invalid(response.json() | {'status': response.status_code}, field)


async def test_modify_duplicate_username(client, make_client):
    await register(make_client(), 'bob')
    await register(client, 'alice')
    body = await call(client, 'POST', '/account/modify', username='bob')
    assert (body['code'], body['message']) == ('duplicate', messages.USERNAME_TAKEN)
    assert (await info(client))['username'] == 'alice'


@pytest.mark.parametrize('channel, target', [('mobile', '13800000000'),
                                             ('email', 'alice@example.com')])
async def test_modify_contact_with_a_valid_code(client, channel, target):
    await register(client, 'alice')
    code = await send_code(client, target, channel)
    assert re.fullmatch(r'[0-9]{6}', code)
    body = await call(client, 'POST', '/account/modify', code=code, **{channel: target})
    assert body['code'] == 'ok', body
    assert body['data']['user'][channel] == target
    assert (await info(client))[channel] == target
    # the code is spent
    body = await call(client, 'POST', '/account/modify', code=code, **{channel: target})
    assert (body['code'], body['message']) == ('fail', messages.VERIFY_CODE_WRONG)


@pytest.mark.parametrize('channel, target', [('mobile', '13800000000'),
                                             ('email', 'alice@example.com')])
async def test_modify_contact_without_a_valid_code_fails(client, channel, target):
    await register(client, 'alice')
    body = await call(client, 'POST', '/account/modify', **{channel: target})
    assert (body['code'], body['message']) == \
        ('fail', messages.VERIFY_CODE_NEEDED.format(field=channel))
    code = await send_code(client, target, channel)
    wrong = f'{(int(code) + 1) % 10**6:06d}'
    body = await call(client, 'POST', '/account/modify', code=wrong, **{channel: target})
    assert (body['status'], body['code'], body['message']) == \
        (200, 'fail', messages.VERIFY_CODE_WRONG)
    assert (await info(client))[channel] is None


async def test_modify_with_a_code_sent_to_another_target_fails(client):
    await register(client, 'alice')
    code = await send_code(client, '13800000000')
    body = await call(client, 'POST', '/account/modify', mobile='13800000001', code=code)
    assert (body['code'], body['message']) == ('fail', messages.VERIFY_CODE_WRONG)
    code = await send_code(client, 'alice@example.com', 'email')
    body = await call(client, 'POST', '/account/modify', mobile='13800000001', code=code)
    assert body['code'] == 'fail'
    assert (await info(client))['mobile'] is None


async def test_modify_with_a_register_code_fails(client):
    await register(client, 'alice')
    code = await send_code(client, '13800000000', type='register')
    body = await call(client, 'POST', '/account/modify', mobile='13800000000', code=code)
    assert body['code'] == 'fail'


async def test_modify_failure_changes_nothing_else(client):
    await register(client, 'alice')
    body = await call(client, 'POST', '/account/modify', intro='new intro',
                      mobile='13800000000', code='000000')
    assert body['code'] == 'fail'
    assert (await info(client))['intro'] == ''


async def test_modify_duplicate_mobile(client, make_client, container):
    bob = await register(make_client(), 'bob')
    users = await container.users()  # set up directly: one code per target per minute
    await users.update(bob['id'], mobile='13800000000', email='bob@example.com')
    await register(client, 'alice')
    for channel, target, message in (('mobile', '13800000000', messages.MOBILE_TAKEN),
                                     ('email', 'bob@example.com', messages.EMAIL_TAKEN)):
        code = await send_code(client, target, channel)
        body = await call(client, 'POST', '/account/modify', code=code, **{channel: target})
        assert (body['status'], body['code'], body['message']) == (200, 'duplicate', message)
        assert (await info(client))[channel] is None


async def _file(container, user_id: int, mime: str, path: str) -> dict:
    files = await container.files()
    return await files.create(user_id, 'local', 'avatars', path,
                              {'name': path, 'size': 10, 'type': mime,
                               'width': 1, 'height': 1, 'duration': 0})


async def test_modify_avatar_must_be_own_image(client, make_client, container):
    bob = await register(make_client(), 'bob')
    alice = await register(client, 'alice')
    own = await _file(container, alice['id'], 'image/png', 'a.png')
    own_text = await _file(container, alice['id'], 'text/plain', 'a.txt')
    bobs = await _file(container, bob['id'], 'image/png', 'b.png')
    for file_id in (bobs['id'], own_text['id'], own['id'] + 1000):
        body = await call(client, 'POST', '/account/modify', avatarId=file_id)
        assert (body['code'], body['message']) == ('fail', messages.AVATAR_NOT_OWN)
    assert (await info(client))['avatarId'] is None

    body = await call(client, 'POST', '/account/modify', avatarId=own['id'])
    assert body['code'] == 'ok', body
    user = body['data']['user']
    assert user['avatarId'] == own['id']
    assert user['avatar']['id'] == own['id'] and user['avatar']['userId'] == alice['id']
    assert user['avatar']['url'] == 'http://testserver/files/avatars/a.png'
    assert user['avatar']['meta']['type'] == 'image/png'
    assert (await info(client))['avatar']['id'] == own['id']

    body = await call(client, 'POST', '/account/modify', avatarId=None)
    assert body['code'] == 'ok'
    assert body['data']['user']['avatarId'] is None
    assert body['data']['user']['avatar'] is None


# --- verify codes -------------------------------------------------------------------

async def test_send_code_twice_within_a_minute_is_429(client):
    assert re.fullmatch(r'[0-9]{6}', await send_code(client, '13800000000'))
    response = await client.post('/account/send/mobile/verify/code',
                                 json={'type': 'login', 'mobile': '13800000000'})
    assert response.status_code == 429
    body = response.json()
    assert body['code'] == 'too_many_requests' and body['data'] == {}
    retry_after = int(response.headers['Retry-After'])
    assert 1 <= retry_after <= 60
    assert str(retry_after) in body['message']
    # another target is not limited
    assert await send_code(client, '13800000001')
    assert await send_code(client, 'a@example.com', 'email')
    response = await client.post('/account/send/email/verify/code',
                                 json={'type': 'register', 'email': 'a@example.com'})
    assert response.status_code == 429 and 'Retry-After' in response.headers


@pytest.mark.parametrize('path, payload, field', [
    ('mobile', {'mobile': '13800000000'}, 'type'),
    ('mobile', {'type': 'reset', 'mobile': '13800000000'}, 'type'),
    ('mobile', {'type': 'modify'}, 'mobile'),
    ('mobile', {'type': 'modify', 'mobile': '138-0000'}, 'mobile'),
    ('mobile', {'type': 'modify', 'mobile': 13800000000}, 'mobile'),
    ('email', {'type': 'modify'}, 'email'),
    ('email', {'type': 'modify', 'email': 'nope'}, 'email'),
    ('email', {'type': 'modify', 'email': 'a' * 100 + '@example.com'}, 'email'),
    ('email', {'type': 1, 'email': 'a@example.com'}, 'type'),
])
async def test_send_code_invalid_params(client, path, payload, field):
    response = await client.post(f'/account/send/{path}/verify/code', json=payload)
    assert_invalid(response.json() | {'status': response.status_code}, field)


class TestEchoOff:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, VERIFY_CODE_ECHO=False)

    async def test_a_channel_without_sender_is_refused(self, client):
        """Echo off and no SMTP or SMS webhook configured: nothing could reach the
        user, and the code may not go to the log either."""
        for channel, target in (('mobile', '13800000000'), ('email', 'a@example.com')):
            body = await call(client, 'POST', f'/account/send/{channel}/verify/code',
                              type='modify', **{channel: target})
            assert body['code'] == 'fail'
            assert body['message'] == messages.VERIFY_CODE_NO_CHANNEL.format(channel=channel)


async def test_look_alike_usernames_cannot_log_in(client, make_client):
    """A name that cannot be registered cannot be logged into, on both backends."""
    await register(client, 'sessuser')
    stranger = make_client()
    for name in ['ｓessuser', 'séssuser', 'sessuser ', 'sessuser\0']:
        body = await call(stranger, 'POST', '/account/login', username=name,
                          password=PASSWORD)
        assert (body['status'], body['code']) == (400, 'invalid_param'), (name, body)
        assert body['message'].startswith('username:')
    body = await call(stranger, 'POST', '/account/login', username='SESSUSER',
                      password=PASSWORD)
    assert body['code'] == 'ok'
