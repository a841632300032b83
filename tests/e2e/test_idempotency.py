"""Idempotency-Key on register, publish and upload: the same key within its time
returns the first answer and does nothing twice; a registration that answers 503
created nothing."""
import uuid


from weiguan.entities.errors import Unavailable

from tests.support import PASSWORD, call, provided, register
from tests.e2e.test_storage_api import image


def keyed(key=None):
    return {'Idempotency-Key': key or str(uuid.uuid4())}


async def test_a_retried_publish_returns_the_first_post_and_posts_once(client):
    await register(client, 'alice')
    headers = keyed()
    first = await client.post('/post/publish', json={'type': 'text', 'text': 'hi'},
                              headers=headers)
    again = await client.post('/post/publish', json={'type': 'text', 'text': 'hi'},
                              headers=headers)
    assert first.json()['code'] == 'ok'
    assert again.json() == first.json()
    assert again.headers['idempotent-replayed'] == 'true'
    published = await call(client, 'GET', '/post/published')
    assert published['data']['total'] == 1
    other = await client.post('/post/publish', json={'type': 'text', 'text': 'hi'},
                              headers=keyed())
    assert other.json()['data']['post']['id'] != first.json()['data']['post']['id']


async def test_the_same_key_for_another_request_is_refused(client):
    await register(client, 'alice')
    headers = keyed()
    await client.post('/post/publish', json={'type': 'text', 'text': 'one'}, headers=headers)
    answer = await client.post('/post/publish', json={'type': 'text', 'text': 'two'},
                               headers=headers)
    assert answer.status_code == 400
    assert answer.json()['message'].startswith('Idempotency-Key:')


async def test_keys_are_per_user_and_malformed_keys_are_refused(make_client):
    alice, bob = make_client(), make_client()
    await register(alice, 'alice')
    await register(bob, 'bob')
    headers = keyed('same-key')
    a = await alice.post('/post/publish', json={'type': 'text', 'text': 'x'}, headers=headers)
    b = await bob.post('/post/publish', json={'type': 'text', 'text': 'x'}, headers=headers)
    assert a.json()['data']['post']['userId'] != b.json()['data']['post']['userId']
    bad = await alice.post('/post/publish', json={'type': 'text', 'text': 'x'},
                           headers={'Idempotency-Key': 'x' * 129})
    assert bad.status_code == 400


async def test_an_answer_that_is_not_200_releases_the_key(client):
    await register(client, 'alice')
    headers = keyed()
    refused = await client.post('/post/publish', json={'type': 'bogus'}, headers=headers)
    assert refused.status_code == 400
    retried = await client.post('/post/publish', json={'type': 'text', 'text': 'x'},
                                headers=headers)
    assert retried.json()['code'] == 'ok'


async def test_a_retried_registration_is_the_first_one_and_logs_in(make_client):
    headers = keyed()
    first_client, retry_client = make_client(), make_client()
    body = {'username': 'alice', 'password': PASSWORD}
    first = await first_client.post('/account/register', json=body, headers=headers)
    again = await retry_client.post('/account/register', json=body, headers=headers)
    assert first.json()['code'] == again.json()['code'] == 'ok'
    assert again.json()['data']['user']['id'] == first.json()['data']['user']['id']
    info = await call(retry_client, 'GET', '/account/info')
    assert info['data']['user']['username'] == 'alice'
    plain = await make_client().post('/account/register', json=body)  # no key: a new try
    assert plain.json()['code'] == 'duplicate'


async def test_a_retried_upload_stores_the_files_once(client):
    await register(client, 'alice')
    headers = keyed()
    files = [('files', ('a.jpg', image((8, 8)), 'image/jpeg'))]
    first = await client.post('/storage/upload', files=files, headers=headers)
    again = await client.post('/storage/upload', files=files, headers=headers)
    assert first.json()['code'] == 'ok'
    assert again.json() == first.json()


async def test_a_registration_whose_session_write_fails_creates_nothing(server,
                                                                        make_client,
                                                                        monkeypatch):
    sessions = server.app.ctx.sessions
    save = sessions.save

    async def lost(*args, **kwargs):
        raise Unavailable()
    monkeypatch.setattr(sessions, 'save', lost)
    headers = keyed()
    body = {'username': 'alice', 'password': PASSWORD}
    answer = await make_client().post('/account/register', json=body, headers=headers)
    assert answer.status_code == 503
    [users] = await provided(server.container, 'users')
    assert await users.find_by('username', 'alice') is None
    monkeypatch.setattr(sessions, 'save', save)
    retry = await make_client().post('/account/register', json=body, headers=headers)
    assert retry.json()['code'] == 'ok'
