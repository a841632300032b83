"""/post/following, the home timeline, end to end: scrolling down with beforeId,
pulling to refresh with afterId, newest first always."""
import pytest

from tests.support import POST_KEYS, call, logged_in

pytestmark = pytest.mark.usefixtures('fast_passwords')


async def publish(client, text: str) -> int:
    body = await call(client, 'POST', '/post/publish', type='text', text=text)
    assert body['code'] == 'ok', body
    return body['data']['post']['id']


async def timeline(client, **params) -> tuple[list[str], int]:
    body = await call(client, 'GET', '/post/following', **params)
    assert body['code'] == 'ok', body
    return [p['text'] for p in body['data']['posts']], body['data']['total']


@pytest.fixture
async def people(make_client):
    """alice follows bob and carol, not dave."""
    clients = {}
    for name in ('alice', 'bob', 'carol', 'dave'):
        clients[name], user = await logged_in(make_client, name)
        clients[name + '_id'] = user['id']
    for followed in ('bob', 'carol'):
        body = await call(clients['alice'], 'POST', '/user/follow',
                          followingId=clients[followed + '_id'])
        assert body['code'] == 'ok'
    return clients


async def test_timeline_holds_followed_users_posts_only(people):
    for author in ('bob', 'dave', 'alice', 'carol'):
        await publish(people[author], f'{author} says hi')
    texts, total = await timeline(people['alice'])
    assert texts == ['carol says hi', 'bob says hi']  # not dave's, not my own
    assert total == 2
    body = await call(people['alice'], 'GET', '/post/following')
    post = body['data']['posts'][0]
    assert set(post) == POST_KEYS
    assert post['user']['username'] == 'carol' and post['user']['isFollowing'] is True
    assert post['isLiked'] is False
    await call(people['alice'], 'POST', '/post/like', postId=post['id'])
    body = await call(people['alice'], 'GET', '/post/following')
    assert body['data']['posts'][0]['isLiked'] is True
    assert body['data']['posts'][0]['stat']['likeCount'] == 1


async def test_scrolling_down_with_before_id_walks_every_post_once(people):
    expected = []
    for i in range(7):
        author = ('bob', 'carol')[i % 2]
        await publish(people[author], f'{author} {i}')
        await publish(people['dave'], f'dave {i}')
        expected.insert(0, f'{author} {i}')
    seen, before_id = [], None
    for page_size in (3, 3, 1):
        params = {'limit': 3} if before_id is None else {'limit': 3, 'beforeId': before_id}
        body = await call(people['alice'], 'GET', '/post/following', **params)
        posts = body['data']['posts']
        assert len(posts) == page_size and body['data']['total'] == 7
        assert [p['id'] for p in posts] == sorted((p['id'] for p in posts), reverse=True)
        seen += [p['text'] for p in posts]
        before_id = posts[-1]['id']
    assert seen == expected
    assert await timeline(people['alice'], beforeId=before_id) == ([], 7)


async def test_pull_to_refresh_with_after_id_gives_the_newer_posts_newest_first(people):
    for i in range(3):
        await publish(people['bob'], f'old {i}')
    body = await call(people['alice'], 'GET', '/post/following', limit=2)
    top = body['data']['posts'][0]['id']
    for i in range(3):
        await publish(people['carol'], f'new {i}')
        await publish(people['dave'], f'unseen {i}')
    assert await timeline(people['alice'], afterId=top) == (['new 2', 'new 1', 'new 0'], 6)
    # a short page holds the posts just newer than afterId: no gap when paging up
    assert await timeline(people['alice'], afterId=top, limit=2) == (['new 1', 'new 0'], 6)
    newest = (await call(people['alice'], 'GET', '/post/following', limit=1)
              )['data']['posts'][0]
    assert newest['text'] == 'new 2'
    assert await timeline(people['alice'], afterId=newest['id']) == ([], 6)


async def test_unfollowing_and_deleting_take_posts_out_of_the_timeline(people):
    bob_post = await publish(people['bob'], 'bob')
    await publish(people['carol'], 'carol 1')
    carol_post = await publish(people['carol'], 'carol 2')
    assert await timeline(people['alice']) == (['carol 2', 'carol 1', 'bob'], 3)
    await call(people['alice'], 'POST', '/user/unfollow', followingId=people['bob_id'])
    assert await timeline(people['alice']) == (['carol 2', 'carol 1'], 2)
    body = await call(people['carol'], 'POST', '/post/delete', id=carol_post)
    assert body['code'] == 'ok'
    assert await timeline(people['alice']) == (['carol 1'], 1)
    assert await timeline(people['alice'], beforeId=bob_post + 100) == (['carol 1'], 1)


async def test_a_user_who_follows_nobody_has_an_empty_timeline(people):
    await publish(people['bob'], 'hi')
    assert await timeline(people['dave']) == ([], 0)


@pytest.mark.parametrize('params, field', [
    ({'beforeId': 5, 'afterId': 3}, 'beforeId'), ({'beforeId': 'x'}, 'beforeId'),
    ({'afterId': 0}, 'afterId'), ({'limit': 0}, 'limit'), ({'limit': 101}, 'limit'),
    ({'limit': '1e3'}, 'limit')])
async def test_timeline_params_are_checked(make_client, params, field):
    client, _ = await logged_in(make_client, 'alice')
    body = await call(client, 'GET', '/post/following', **params)
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith(field + ':'), body
