"""Two real server processes sharing MariaDB and Redis, each with its own
per-process caches (dependencies/cached_repositories.py): what one process changed is
seen by the very next read on the other, with both caches warm. No waiting: the
change answers only after the entries it changed are marked."""

import httpx
import pytest

from tests.support import call, register
from tests.support.servers import MYSQL_HOST, REDIS_URI

pytestmark = pytest.mark.skipif(not (MYSQL_HOST and REDIS_URI),
                                reason='needs MariaDB and Redis shared by two processes')


async def _data(client: httpx.AsyncClient, method: str, path: str, **params) -> dict:
    body = await call(client, method, path, **params)
    assert body['code'] == 'ok', body
    return body['data']


async def test_changes_on_one_process_show_on_the_other_at_once(two_servers):
    server_a, server_b = two_servers
    async with httpx.AsyncClient(base_url=server_a.url, timeout=30) as alice_a, \
            httpx.AsyncClient(base_url=server_a.url, timeout=30) as bob_a:
        alice = await register(alice_a, 'alice')
        await register(bob_a, 'bob')
        async with httpx.AsyncClient(base_url=server_b.url, cookies=alice_a.cookies,
                                     timeout=30) as alice_b, \
                httpx.AsyncClient(base_url=server_b.url, cookies=bob_a.cookies,
                                  timeout=30) as bob_b:
            post = (await _data(alice_a, 'POST', '/post/publish', type='text',
                                text='hello'))['post']
            for _ in range(3):  # b's caches warm
                me = (await _data(alice_b, 'GET', '/account/info'))['user']
                seen = (await _data(bob_b, 'GET', '/post/info', id=post['id']))['post']
            assert me['intro'] == '' and me['stat']['followerCount'] == 0
            assert (seen['stat']['likeCount'], seen['isLiked']) == (0, False)
            assert seen['user']['isFollowing'] is False

            await _data(alice_a, 'POST', '/account/modify', intro='changed on a')
            assert (await _data(alice_b, 'GET', '/account/info'))['user']['intro'] == \
                'changed on a'
            seen = (await _data(bob_b, 'GET', '/post/info', id=post['id']))['post']
            assert seen['user']['intro'] == 'changed on a'

            await _data(bob_a, 'POST', '/post/like', postId=post['id'])
            await _data(bob_a, 'POST', '/user/follow', followingId=alice['id'])
            seen = (await _data(bob_b, 'GET', '/post/info', id=post['id']))['post']
            assert (seen['stat']['likeCount'], seen['isLiked']) == (1, True)
            assert seen['user']['isFollowing'] is True
            assert seen['user']['stat']['followerCount'] == 1
            me = (await _data(alice_b, 'GET', '/account/info'))['user']
            assert me['stat']['followerCount'] == 1

            await _data(alice_a, 'POST', '/post/delete', id=post['id'])
            for client in (bob_b, alice_b):
                body = await call(client, 'GET', '/post/info', id=post['id'])
                assert body['code'] == 'not_found', body
            assert (await _data(alice_b, 'GET', '/account/info'))['user']['stat'][
                'postCount'] == 0
