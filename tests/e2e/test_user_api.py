"""/user/* end to end: a real server, clients with their own cookie jars."""
import pytest

from tests.support import (USER_KEYS, USER_STAT_KEYS, call, create_file, has_offset,
                           logged_in, provided)
from weiguan.entities import messages

pytestmark = pytest.mark.usefixtures('fast_passwords')

ENDPOINTS = [('GET', '/user/info', {'id': 1}), ('POST', '/user/follow', {'followingId': 1}),
             ('POST', '/user/unfollow', {'followingId': 1}),
             ('GET', '/user/followings', {}), ('GET', '/user/followers', {})]


@pytest.mark.parametrize('method, path, params', ENDPOINTS)
async def test_every_user_endpoint_needs_login(client, method, path, params):
    body = await call(client, method, path, **params)
    assert (body['status'], body['code']) == (401, 'not_authenticated')


async def test_info_shows_a_user_with_the_keys_the_app_parses(make_client, server):
    alice_client, alice = await logged_in(make_client, 'alice')
    bob_client, bob = await logged_in(make_client, 'bob')
    avatar = await create_file(server.container, alice['id'])
    assert (await call(alice_client, 'POST', '/account/modify',
                       avatarId=avatar['id']))['code'] == 'ok'
    for params in ({'id': alice['id']}, {'userId': alice['id']}):
        body = await call(bob_client, 'GET', '/user/info', **params)
        assert body['code'] == 'ok', body
        user = body['data']['user']
        assert set(user) == USER_KEYS
        assert set(user['stat']) == USER_STAT_KEYS
        assert (user['id'], user['username'], user['avatarId']) == \
            (alice['id'], 'alice', avatar['id'])
        assert user['avatar']['url'] == f'http://testserver/files/test/{avatar["path"]}'
        assert user['isFollowing'] is False
        assert has_offset(user['createdAt']) and has_offset(user['stat']['updatedAt'])
        assert 'password' not in user


async def test_contact_data_is_shown_to_its_owner_only(make_client, server):
    alice_client, alice = await logged_in(make_client, 'alice')
    bob_client, _ = await logged_in(make_client, 'bob')
    [users] = await provided(server.container, 'users')
    await users.update(alice['id'], mobile='+8613800000000', email='a@example.com')
    mine = (await call(alice_client, 'GET', '/user/info', id=alice['id']))['data']['user']
    assert (mine['mobile'], mine['email']) == ('+8613800000000', 'a@example.com')
    theirs = (await call(bob_client, 'GET', '/user/info', id=alice['id']))['data']['user']
    assert (theirs['mobile'], theirs['email']) == (None, None)


@pytest.mark.parametrize('params, field', [
    ({}, 'id'), ({'id': 'abc'}, 'id'), ({'id': 0}, 'id'), ({'userId': -3}, 'userId'),
    ({'id': 2**31}, 'id'), ({'id': '1.5'}, 'id')])
async def test_info_with_a_bad_id_is_invalid_param_naming_it(make_client, params, field):
    client, _ = await logged_in(make_client, 'alice')
    body = await call(client, 'GET', '/user/info', **params)
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith(field + ':'), body


async def test_info_of_an_unknown_user_is_not_found(make_client):
    client, alice = await logged_in(make_client, 'alice')
    body = await call(client, 'GET', '/user/info', id=alice['id'] + 1000)
    assert (body['status'], body['code'], body['message']) == \
        (404, 'not_found', messages.USER_NOT_FOUND)


async def test_follow_rules(make_client):
    client, alice = await logged_in(make_client, 'alice')
    _, bob = await logged_in(make_client, 'bob')
    body = await call(client, 'POST', '/user/follow', followingId=bob['id'])
    assert (body['code'], body['data']) == ('ok', {})
    body = await call(client, 'POST', '/user/follow', userId=bob['id'])
    assert (body['status'], body['code'], body['message']) == \
        (200, 'duplicate', messages.ALREADY_FOLLOWING)
    body = await call(client, 'POST', '/user/follow', followingId=alice['id'])
    assert (body['status'], body['code'], body['message']) == \
        (200, 'fail', messages.FOLLOW_SELF)
    body = await call(client, 'POST', '/user/follow', followingId=bob['id'] + 1000)
    assert (body['status'], body['code']) == (404, 'not_found')
    seen = (await call(client, 'GET', '/user/info', id=bob['id']))['data']['user']
    assert seen['isFollowing'] is True and seen['stat']['followerCount'] == 1
    me = (await call(client, 'GET', '/user/info', id=alice['id']))['data']['user']
    assert me['stat']['followingCount'] == 1


@pytest.mark.parametrize('path', ['/user/follow', '/user/unfollow'])
@pytest.mark.parametrize('body, field', [
    ({}, 'followingId'), ({'followingId': '2'}, 'followingId'),
    ({'followingId': None}, 'followingId'), ({'userId': [2]}, 'userId'),
    ({'followingId': 0}, 'followingId')])
async def test_follow_with_a_bad_id_is_invalid_param_naming_it(make_client, path, body,
                                                               field):
    client, _ = await logged_in(make_client, 'alice')
    answer = await call(client, 'POST', path, **body)
    assert (answer['status'], answer['code']) == (400, 'invalid_param')
    assert answer['message'].startswith(field + ':'), answer


@pytest.mark.parametrize('raw', [b'not json', b'[1, 2]', b'"text"'])
async def test_follow_with_a_body_that_is_no_json_object_is_invalid_param(make_client, raw):
    client, _ = await logged_in(make_client, 'alice')
    response = await client.post('/user/follow', content=raw,
                                 headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert response.json()['code'] == 'invalid_param'


async def test_unfollow_is_idempotent_and_needs_a_known_user(make_client):
    client, _ = await logged_in(make_client, 'alice')
    _, bob = await logged_in(make_client, 'bob')
    await call(client, 'POST', '/user/follow', followingId=bob['id'])
    for _ in range(2):
        body = await call(client, 'POST', '/user/unfollow', userId=bob['id'])
        assert (body['code'], body['data']) == ('ok', {})
    seen = (await call(client, 'GET', '/user/info', id=bob['id']))['data']['user']
    assert seen['isFollowing'] is False and seen['stat']['followerCount'] == 0
    body = await call(client, 'POST', '/user/unfollow', followingId=bob['id'] + 1000)
    assert (body['status'], body['code']) == (404, 'not_found')


async def test_followings_and_followers_lists(make_client):
    alice_client, alice = await logged_in(make_client, 'alice')
    bob_client, bob = await logged_in(make_client, 'bob')
    carol_client, carol = await logged_in(make_client, 'carol')
    for target in (bob, carol):
        await call(alice_client, 'POST', '/user/follow', followingId=target['id'])
    await call(bob_client, 'POST', '/user/follow', followingId=carol['id'])

    body = await call(alice_client, 'GET', '/user/followings')  # default: me
    assert body['code'] == 'ok'
    assert [u['username'] for u in body['data']['users']] == ['carol', 'bob']
    assert body['data']['total'] == 2
    assert all(set(u) == USER_KEYS for u in body['data']['users'])
    body = await call(alice_client, 'GET', '/user/followings', limit=1, offset=1)
    assert [u['username'] for u in body['data']['users']] == ['bob']
    assert body['data']['total'] == 2

    body = await call(carol_client, 'GET', '/user/followers')
    assert [u['username'] for u in body['data']['users']] == ['bob', 'alice']
    assert [u['isFollowing'] for u in body['data']['users']] == [False, False]
    body = await call(bob_client, 'GET', '/user/followers', userId=carol['id'])
    assert [u['username'] for u in body['data']['users']] == ['bob', 'alice']
    assert [u['mobile'] for u in body['data']['users']] == [None, None]
    body = await call(bob_client, 'GET', '/user/followings', userId=carol['id'])
    assert body['data'] == {'users': [], 'total': 0}


@pytest.mark.parametrize('path', ['/user/followings', '/user/followers'])
@pytest.mark.parametrize('params, field', [
    ({'limit': 0}, 'limit'), ({'limit': 101}, 'limit'), ({'limit': 'x'}, 'limit'),
    ({'offset': -1}, 'offset'), ({'userId': 'me'}, 'userId')])
async def test_list_params_out_of_range_are_invalid_param(make_client, path, params, field):
    client, _ = await logged_in(make_client, 'alice')
    body = await call(client, 'GET', path, **params)
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith(field + ':'), body


@pytest.mark.parametrize('path', ['/user/followings', '/user/followers'])
async def test_lists_of_an_unknown_user_are_not_found(make_client, path):
    client, alice = await logged_in(make_client, 'alice')
    body = await call(client, 'GET', path, userId=alice['id'] + 1000)
    assert (body['status'], body['code']) == (404, 'not_found')
