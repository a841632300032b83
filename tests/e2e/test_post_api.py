"""/post/* end to end (the home timeline has its own module)."""
import pytest

from tests.support import (FILE_KEYS, POST_KEYS, POST_STAT_KEYS, USER_KEYS, call,
                           create_file, has_offset, logged_in)
from weiguan.entities import messages

pytestmark = pytest.mark.usefixtures('fast_passwords')

ENDPOINTS = [('POST', '/post/publish', {'type': 'text', 'text': 'hi'}),
             ('POST', '/post/delete', {'id': 1}), ('GET', '/post/info', {'id': 1}),
             ('GET', '/post/published', {}), ('POST', '/post/like', {'postId': 1}),
             ('POST', '/post/unlike', {'postId': 1}), ('GET', '/post/liked', {}),
             ('GET', '/post/following', {})]


async def publish(client, **fields) -> dict:
    body = await call(client, 'POST', '/post/publish', **fields)
    assert body['code'] == 'ok', body
    return body['data']['post']


async def post_info(client, post_id) -> dict:
    body = await call(client, 'GET', '/post/info', id=post_id)
    assert body['code'] == 'ok', body
    return body['data']['post']


@pytest.mark.parametrize('method, path, params', ENDPOINTS)
async def test_every_post_endpoint_needs_login(client, method, path, params):
    body = await call(client, method, path, **params)
    assert (body['status'], body['code']) == (401, 'not_authenticated')


async def test_publish_text_post_with_the_keys_the_app_parses(make_client):
    client, alice = await logged_in(make_client, 'alice')
    post = await publish(client, type='text', text='  hello  ', imageIds=[], videoId=None)
    assert set(post) == POST_KEYS and set(post['stat']) == POST_STAT_KEYS
    assert set(post['user']) == USER_KEYS
    assert (post['userId'], post['type'], post['text'], post['imageIds'], post['videoId'],
            post['images'], post['video'], post['isLiked']) == \
        (alice['id'], 'text', 'hello', [], None, [], None, False)
    assert (post['stat']['postId'], post['stat']['likeCount']) == (post['id'], 0)
    assert post['user']['stat']['postCount'] == 1
    assert has_offset(post['createdAt']) and has_offset(post['stat']['createdAt'])
    assert await post_info(client, post['id']) == post


@pytest.mark.parametrize('fields, code, message_start', [
    ({'type': 'text', 'text': ''}, 'fail', messages.TEXT_POST_EMPTY),
    ({'type': 'text', 'text': '   '}, 'fail', messages.TEXT_POST_EMPTY),
    ({'type': 'text'}, 'fail', messages.TEXT_POST_EMPTY),
    ({'type': 'text', 'text': 'x' * 1001}, 'invalid_param', 'text:'),
    ({'type': 'text', 'text': 5}, 'invalid_param', 'text:'),
    ({'text': 'hi'}, 'invalid_param', 'type:'),
    ({'type': 'poem', 'text': 'hi'}, 'invalid_param', 'type:'),
    ({'type': 'image'}, 'fail', messages.IMAGE_POST_COUNT),
    ({'type': 'image', 'imageIds': []}, 'fail', messages.IMAGE_POST_COUNT),
    ({'type': 'image', 'imageIds': list(range(1, 11))}, 'invalid_param', 'imageIds:'),
    ({'type': 'image', 'imageIds': 3}, 'invalid_param', 'imageIds:'),
    ({'type': 'image', 'imageIds': ['a']}, 'invalid_param', 'imageIds.0:'),
    ({'type': 'image', 'imageIds': [0]}, 'invalid_param', 'imageIds.0:'),
    ({'type': 'video'}, 'fail', messages.VIDEO_POST_MISSING),
    ({'type': 'video', 'videoId': 'x'}, 'invalid_param', 'videoId:'),
])
async def test_publish_rejects_bad_posts(make_client, fields, code, message_start):
    client, _ = await logged_in(make_client, 'alice')
    body = await call(client, 'POST', '/post/publish', **fields)
    assert body['code'] == code, body
    assert body['status'] == (200 if code == 'fail' else 400)
    assert body['message'].startswith(message_start), body
    assert (await call(client, 'GET', '/post/published'))['data']['total'] == 0


async def test_image_post_needs_own_image_files_and_keeps_their_order(make_client, server):
    client, alice = await logged_in(make_client, 'alice')
    _, bob = await logged_in(make_client, 'bob')
    first = await create_file(server.container, alice['id'])
    second = await create_file(server.container, alice['id'], type='image/png')
    foreign = await create_file(server.container, bob['id'])
    video = await create_file(server.container, alice['id'], type='video/mp4')
    for image_ids, message in (
            ([first['id'], foreign['id']], messages.IMAGE_POST_FILES),
            ([video['id']], messages.IMAGE_POST_FILES),
            ([first['id'], 99999], messages.IMAGE_POST_FILES),
            ([first['id'], first['id']], messages.IMAGE_POST_REPEATED)):
        body = await call(client, 'POST', '/post/publish', type='image', imageIds=image_ids)
        assert (body['status'], body['code'], body['message']) == (200, 'fail', message)
    post = await publish(client, type='image', text='two',
                         imageIds=[second['id'], first['id']])
    assert post['imageIds'] == [second['id'], first['id']]
    assert [i['id'] for i in post['images']] == [second['id'], first['id']]
    assert all(set(i) == FILE_KEYS for i in post['images'])
    assert post['images'][0]['url'] == f'http://testserver/files/test/{second["path"]}'
    assert post['images'][0]['thumbs']['huge'].endswith('?process=thumb-huge')
    assert post['images'][0]['meta']['type'] == 'image/png'


async def test_video_post_needs_an_own_video_file(make_client, server):
    client, alice = await logged_in(make_client, 'alice')
    _, bob = await logged_in(make_client, 'bob')
    image = await create_file(server.container, alice['id'])
    foreign = await create_file(server.container, bob['id'], type='video/mp4')
    for video_id in (image['id'], foreign['id'], 99999):
        body = await call(client, 'POST', '/post/publish', type='video', videoId=video_id)
        assert (body['code'], body['message']) == ('fail', messages.VIDEO_POST_FILE)
    video = await create_file(server.container, alice['id'], type='video/mp4')
    post = await publish(client, type='video', videoId=video['id'])
    assert (post['videoId'], post['video']['id'], post['imageIds'], post['text']) == \
        (video['id'], video['id'], [], '')
    assert post['video']['thumbs'] == {'small': '', 'middle': '', 'large': '', 'huge': ''}


async def test_info_takes_id_or_post_id_and_checks_it(make_client):
    client, _ = await logged_in(make_client, 'alice')
    post = await publish(client, type='text', text='hi')
    assert (await call(client, 'GET', '/post/info', postId=post['id']))['data']['post'] == post
    body = await call(client, 'GET', '/post/info', id=post['id'] + 1000)
    assert (body['status'], body['code'], body['message']) == \
        (404, 'not_found', messages.POST_NOT_FOUND)
    for params, field in (({}, 'id'), ({'id': 'x'}, 'id'), ({'postId': 0}, 'postId')):
        body = await call(client, 'GET', '/post/info', **params)
        assert (body['status'], body['code']) == (400, 'invalid_param')
        assert body['message'].startswith(field + ':'), body


async def test_like_unlike_and_the_liked_list(make_client):
    alice_client, alice = await logged_in(make_client, 'alice')
    bob_client, bob = await logged_in(make_client, 'bob')
    first = await publish(alice_client, type='text', text='first')
    second = await publish(alice_client, type='text', text='second')
    for post in (second, first):
        body = await call(bob_client, 'POST', '/post/like', postId=post['id'])
        assert (body['code'], body['data']) == ('ok', {})
    body = await call(bob_client, 'POST', '/post/like', id=first['id'])
    assert (body['status'], body['code'], body['message']) == \
        (200, 'duplicate', messages.ALREADY_LIKED)
    body = await call(bob_client, 'POST', '/post/like', postId=first['id'] + 1000)
    assert (body['status'], body['code']) == (404, 'not_found')

    seen = await post_info(bob_client, first['id'])
    assert (seen['isLiked'], seen['stat']['likeCount']) == (True, 1)
    assert (await post_info(alice_client, first['id']))['isLiked'] is False
    body = await call(bob_client, 'GET', '/post/liked')  # newest like first
    assert [p['text'] for p in body['data']['posts']] == ['first', 'second']
    assert body['data']['total'] == 2
    body = await call(alice_client, 'GET', '/post/liked', userId=bob['id'], limit=1,
                      offset=1)
    assert [p['text'] for p in body['data']['posts']] == ['second']
    assert body['data']['total'] == 2
    bob_seen = (await call(bob_client, 'GET', '/user/info', id=bob['id']))['data']['user']
    assert bob_seen['stat']['likeCount'] == 2

    for _ in range(2):  # idempotent
        body = await call(bob_client, 'POST', '/post/unlike', id=first['id'])
        assert (body['code'], body['data']) == ('ok', {})
    seen = await post_info(bob_client, first['id'])
    assert (seen['isLiked'], seen['stat']['likeCount']) == (False, 0)
    body = await call(bob_client, 'GET', '/post/liked')
    assert [p['text'] for p in body['data']['posts']] == ['second']
    assert body['data']['total'] == 1
    body = await call(bob_client, 'POST', '/post/unlike', postId=first['id'] + 1000)
    assert (body['status'], body['code']) == (404, 'not_found')


@pytest.mark.parametrize('path', ['/post/like', '/post/unlike', '/post/delete'])
@pytest.mark.parametrize('fields, field', [
    ({}, 'postId'), ({'postId': '1'}, 'postId'), ({'id': -1}, 'id'),
    ({'postId': 2**40}, 'postId'), ({'id': True}, 'id')])
async def test_post_id_bodies_are_checked(make_client, path, fields, field):
    client, _ = await logged_in(make_client, 'alice')
    body = await call(client, 'POST', path, **fields)
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith(field + ':'), body


async def test_delete_returns_the_post_as_it_was_and_removes_it_everywhere(make_client):
    alice_client, alice = await logged_in(make_client, 'alice')
    bob_client, bob = await logged_in(make_client, 'bob')
    await call(bob_client, 'POST', '/user/follow', followingId=alice['id'])
    doomed = await publish(alice_client, type='text', text='doomed')
    kept = await publish(alice_client, type='text', text='kept')
    await call(bob_client, 'POST', '/post/like', postId=doomed['id'])
    await call(bob_client, 'POST', '/post/like', postId=kept['id'])

    body = await call(bob_client, 'POST', '/post/delete', id=doomed['id'])
    assert (body['status'], body['code'], body['message']) == \
        (403, 'forbidden', messages.POST_NOT_OWN)
    body = await call(alice_client, 'POST', '/post/delete', postId=doomed['id'])
    assert body['code'] == 'ok'
    gone = body['data']['post']
    assert set(gone) == POST_KEYS
    assert (gone['id'], gone['text'], gone['stat']['likeCount']) == \
        (doomed['id'], 'doomed', 1)

    body = await call(alice_client, 'POST', '/post/delete', id=doomed['id'])
    assert (body['status'], body['code']) == (404, 'not_found')
    body = await call(bob_client, 'POST', '/post/like', postId=doomed['id'])
    assert (body['status'], body['code']) == (404, 'not_found')
    assert (await call(bob_client, 'GET', '/post/info', id=doomed['id']))['status'] == 404
    for path, params in (('/post/published', {'userId': alice['id']}),
                         ('/post/liked', {}), ('/post/following', {})):
        body = await call(bob_client, 'GET', path, **params)
        assert [p['id'] for p in body['data']['posts']] == [kept['id']], path
        assert body['data']['total'] == 1, path
    stats = {u: (await call(bob_client, 'GET', '/user/info', id=u))['data']['user']['stat']
             for u in (alice['id'], bob['id'])}
    assert stats[alice['id']]['postCount'] == 1
    assert stats[bob['id']]['likeCount'] == 1


async def test_published_list_pages_newest_first(make_client):
    alice_client, alice = await logged_in(make_client, 'alice')
    bob_client, _ = await logged_in(make_client, 'bob')
    for i in range(3):
        await publish(alice_client, type='text', text=f'p{i}')
    body = await call(alice_client, 'GET', '/post/published', limit=2)
    assert [p['text'] for p in body['data']['posts']] == ['p2', 'p1']
    assert body['data']['total'] == 3
    body = await call(bob_client, 'GET', '/post/published', userId=alice['id'], offset=2)
    assert [p['text'] for p in body['data']['posts']] == ['p0']
    assert body['data']['total'] == 3
    assert body['data']['posts'][0]['user']['mobile'] is None
    body = await call(bob_client, 'GET', '/post/published')
    assert body['data'] == {'posts': [], 'total': 0}


@pytest.mark.parametrize('path', ['/post/published', '/post/liked'])
async def test_post_lists_check_their_params(make_client, path):
    client, alice = await logged_in(make_client, 'alice')
    body = await call(client, 'GET', path, userId=alice['id'] + 1000)
    assert (body['status'], body['code']) == (404, 'not_found')
    for params, field in (({'limit': 0}, 'limit'), ({'limit': 101}, 'limit'),
                          ({'offset': 'x'}, 'offset'), ({'userId': 0}, 'userId')):
        body = await call(client, 'GET', path, **params)
        assert (body['status'], body['code']) == (400, 'invalid_param')
        assert body['message'].startswith(field + ':'), body
