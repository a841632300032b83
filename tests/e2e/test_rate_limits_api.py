"""The rate limits end to end, and the client IP they count by. Clients stand at
different addresses through X-Forwarded-For, which the server believes only with
TRUSTED_PROXY_COUNT set (as behind one reverse proxy)."""
import io

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from weiguan.dependencies import tables
from weiguan.entities import messages

from tests.support.servers import test_config as make_config
from tests.support import PASSWORD

pytestmark = pytest.mark.usefixtures('fast_passwords')

BEHIND_PROXY = dict(TRUSTED_PROXY_COUNT=1)
LOGIN_LIMITS = dict(BEHIND_PROXY, RATE_LOGIN_FAILURES_PER_IP=10,
                    RATE_LOGIN_FAILURES_PER_ACCOUNT=20, RATE_LOGIN_WINDOW=300)


@pytest.fixture
def config(tmp_path, request):
    return make_config(tmp_path, **getattr(request, 'param', {}))


def settings(**overrides):
    return pytest.mark.parametrize('config', [overrides], indirect=True,
                                   ids=lambda _: 'settings')


async def post(client: httpx.AsyncClient, path: str, ip: str | None = None,
               **payload) -> httpx.Response:
    headers = {'X-Forwarded-For': ip} if ip else {}
    return await client.post(path, json=payload, headers=headers)


async def login(client, username: str, password: str = PASSWORD,
                ip: str | None = None) -> httpx.Response:
    return await post(client, '/account/login', ip, username=username, password=password)


async def register(client, username: str, ip: str | None = None) -> httpx.Response:
    return await post(client, '/account/register', ip, username=username,
                      password=PASSWORD)


def assert_too_many(response: httpx.Response, message: str, window: int) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body['code'] == 'too_many_requests' and body['data'] == {}
    retry_after = int(response.headers['Retry-After'])
    assert 0 < retry_after <= window
    assert body['message'] == message.format(seconds=retry_after)


# --- logins ----------------------------------------------------------------------

@settings(**LOGIN_LIMITS)
async def test_eleven_failed_logins_from_one_ip_get_429_the_owner_elsewhere_logs_in(
        make_client):
    owner, attacker = make_client(), make_client()
    assert (await register(owner, 'alice', '10.0.0.1')).json()['code'] == 'ok'
    for _ in range(10):
        answer = await login(attacker, 'alice', 'guess12345', '6.6.6.6')
        assert answer.json()['code'] == 'fail'
    assert_too_many(await login(attacker, 'alice', 'guess12345', '6.6.6.6'),
                    messages.LOGIN_TOO_MANY, 300)
    # from that IP even the right password is refused: no more guesses checked
    assert_too_many(await login(attacker, 'alice', PASSWORD, '6.6.6.6'),
                    messages.LOGIN_TOO_MANY, 300)
    assert 'set-cookie' not in (await login(attacker, 'alice', PASSWORD, '6.6.6.6')).headers

    answer = await login(owner, 'alice', PASSWORD, '10.0.0.1')
    assert answer.json()['code'] == 'ok'
    assert answer.json()['data']['user']['username'] == 'alice'


@settings(**LOGIN_LIMITS)
async def test_failures_on_one_account_do_not_block_another(make_client):
    alice, bob, attacker = make_client(), make_client(), make_client()
    await register(alice, 'alice', '10.0.0.1')
    await register(bob, 'bob', '10.0.0.2')
    for number in range(20):  # spread over IPs: only alice's account count fills
        answer = await login(attacker, 'alice', 'guess12345', f'6.6.{number}.1')
        assert answer.json()['code'] == 'fail'
    assert_too_many(await login(alice, 'alice', PASSWORD, '10.0.0.1'),
                    messages.LOGIN_TOO_MANY, 300)
    assert (await login(bob, 'bob', PASSWORD, '10.0.0.2')).json()['code'] == 'ok'
    # and from an IP with a few failures of its own, under its limit
    assert (await login(bob, 'bob', PASSWORD, '6.6.3.1')).json()['code'] == 'ok'


@settings(**LOGIN_LIMITS)
async def test_successful_logins_are_never_counted(make_client):
    client = make_client()
    await register(client, 'alice', '10.0.0.1')
    for _ in range(25):
        assert (await login(client, 'alice', PASSWORD, '10.0.0.1')).json()['code'] == 'ok'


# --- registrations, verify codes, uploads ---------------------------------------

@settings(**BEHIND_PROXY, RATE_REGISTER_PER_IP=2, RATE_REGISTER_WINDOW=3600)
async def test_registrations_per_ip(make_client):
    for name in ('alice', 'bob'):
        assert (await register(make_client(), name, '1.1.1.1')).json()['code'] == 'ok'
    refused = await register(make_client(), 'carol', '1.1.1.1')
    assert_too_many(refused, messages.REGISTER_TOO_MANY, 3600)
    assert 'set-cookie' not in refused.headers
    # nobody named carol was made: another IP may take the name
    assert (await register(make_client(), 'carol', '2.2.2.2')).json()['code'] == 'ok'


@settings(**BEHIND_PROXY, RATE_VERIFY_CODE_PER_IP=2, RATE_VERIFY_CODE_WINDOW=3600)
async def test_verify_codes_per_ip_beside_the_per_target_limit(client):
    path = '/account/send/mobile/verify/code'
    first = await post(client, path, '1.1.1.1', type='register', mobile='13800000001')
    assert first.json()['code'] == 'ok'
    again = await post(client, path, '2.2.2.2', type='register', mobile='13800000001')
    assert_too_many(again, messages.VERIFY_CODE_TOO_SOON, 60)  # per target, any IP
    email = await post(client, '/account/send/email/verify/code', '1.1.1.1',
                       type='register', email='a@example.com')
    assert email.json()['code'] == 'ok'
    third = await post(client, path, '1.1.1.1', type='register', mobile='13800000003')
    assert_too_many(third, messages.VERIFY_CODE_TOO_MANY, 3600)
    other_ip = await post(client, path, '2.2.2.2', type='register', mobile='13800000003')
    assert other_ip.json()['code'] == 'ok'


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new('RGB', (8, 8), 'red').save(buffer, 'JPEG')
    return buffer.getvalue()


async def upload(client) -> httpx.Response:
    return await client.post('/storage/upload',
                             files=[('files', ('a.jpg', jpeg(), 'image/jpeg'))])


@settings(RATE_UPLOAD_PER_USER=2, RATE_UPLOAD_WINDOW=3600)
async def test_uploads_per_user(make_client, container):
    alice, bob = make_client(), make_client()
    await register(alice, 'alice')
    await register(bob, 'bob')
    for _ in range(2):
        assert (await upload(alice)).json()['code'] == 'ok'
    assert_too_many(await upload(alice), messages.UPLOAD_TOO_MANY, 3600)
    assert (await upload(bob)).json()['code'] == 'ok'
    database = await container.database()
    async with database.connection() as conn:  # alice's two and bob's one, no more
        count = await conn.execute(sa.select(sa.func.count()).select_from(tables.file))
        assert count.scalar() == 3


# --- the client IP ---------------------------------------------------------------

@settings(RATE_REGISTER_PER_IP=1)
async def test_x_forwarded_for_is_ignored_by_default(make_client):
    assert (await register(make_client(), 'alice', '1.1.1.1')).json()['code'] == 'ok'
    # a client cannot make itself a new address by saying so
    assert (await register(make_client(), 'bob', '2.2.2.2')).status_code == 429
    assert (await register(make_client(), 'carol')).status_code == 429


@settings(**BEHIND_PROXY, RATE_REGISTER_PER_IP=1)
async def test_x_forwarded_for_is_read_behind_a_trusted_proxy(make_client):
    # the proxy appends the address it saw: only the last entry is the proxy's word
    first = await register(make_client(), 'alice', '8.8.8.8, 1.1.1.1')
    assert first.json()['code'] == 'ok'
    assert (await register(make_client(), 'bob', '9.9.9.9, 1.1.1.1')).status_code == 429
    assert (await register(make_client(), 'carol', '2.2.2.2')).json()['code'] == 'ok'
    # no header (not through the proxy): the socket's address, 127.0.0.1
    assert (await register(make_client(), 'dave')).json()['code'] == 'ok'
    assert (await register(make_client(), 'erin', '127.0.0.1')).status_code == 429


@settings(TRUSTED_PROXY_COUNT=2, RATE_REGISTER_PER_IP=1)
async def test_two_trusted_proxies_take_the_second_entry_from_the_right(make_client):
    assert (await register(make_client(), 'alice', 'forged, 1.1.1.1, 10.0.0.9')
            ).json()['code'] == 'ok'
    assert (await register(make_client(), 'bob', '1.1.1.1, 10.0.0.8')).status_code == 429
    assert (await register(make_client(), 'carol', '2.2.2.2, 10.0.0.9')
            ).json()['code'] == 'ok'


@settings(**BEHIND_PROXY, RATE_REGISTER_PER_IP=1)
async def test_ipv6_clients_share_a_count_per_64(make_client):
    first = await register(make_client(), 'alice', '2001:db8:0:1::1')
    assert first.json()['code'] == 'ok'
    assert (await register(make_client(), 'bob', '2001:db8:0:1::2')).status_code == 429
    assert (await register(make_client(), 'carol', '2001:db8:0:2::1')
            ).json()['code'] == 'ok'
