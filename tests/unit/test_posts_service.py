"""PostService on in-memory fakes: publishing rules, deleting, likes, pages and the
home timeline."""
import pytest

from tests.support.fakes_social import IMAGE_META, VIDEO_META, make_social
from weiguan.entities import messages
from weiguan.entities.enums import PostType
from weiguan.entities.errors import Duplicate, Fail, Forbidden, NotFound


@pytest.fixture
def social():
    return make_social()


async def _users(social, *names):
    return [(await social.users.create(name, 'hash'))['id'] for name in names]


async def _file(social, user_id, meta=IMAGE_META, name=None):
    name = name or f'f{len(social.files.rows)}'
    return (await social.files.create(user_id, 'local', 'b', name, meta))['id']


async def _text(social, user_id, text='hello'):
    return await social.post_service.publish(user_id, PostType.TEXT, text)


async def _fails(coroutine, message):
    with pytest.raises(Fail) as error:
        await coroutine
    assert error.value.message == message


async def test_text_post_needs_text_and_drops_media(social):
    [alice] = await _users(social, 'alice')
    image = await _file(social, alice)
    await _fails(social.post_service.publish(alice, PostType.TEXT, ''),
                 messages.TEXT_POST_EMPTY)
    post = await social.post_service.publish(alice, PostType.TEXT, 'hi',
                                             image_ids=[image], video_id=image)
    assert (post['type'], post['text'], post['image_ids'], post['video_id']) == \
        ('text', 'hi', [], None)
    assert (post['images'], post['video'], post['is_liked']) == ([], None, False)
    assert post['stat']['like_count'] == 0
    assert post['user']['id'] == alice and post['user']['stat']['post_count'] == 1


async def test_image_post_keeps_image_order_and_presents_the_files(social):
    [alice] = await _users(social, 'alice')
    first, second = await _file(social, alice, name='1.jpg'), await _file(social, alice,
                                                                          name='2.jpg')
    post = await social.post_service.publish(alice, PostType.IMAGE, '',
                                             image_ids=[second, first])
    assert post['image_ids'] == [second, first]
    assert [i['url'] for i in post['images']] == ['http://testserver/files/b/2.jpg',
                                                  'http://testserver/files/b/1.jpg']
    assert post['images'][0]['thumbs']['small'].endswith('?process=thumb-small')


@pytest.mark.parametrize('count', [0, 10])
async def test_image_post_needs_one_to_nine_images(social, count):
    [alice] = await _users(social, 'alice')
    ids = [await _file(social, alice) for _ in range(count)]
    await _fails(social.post_service.publish(alice, PostType.IMAGE, image_ids=ids),
                 messages.IMAGE_POST_COUNT)


async def test_image_post_rejects_foreign_missing_repeated_and_non_image_files(social):
    alice, bob = await _users(social, 'alice', 'bob')
    own = await _file(social, alice)
    cases = {
        messages.IMAGE_POST_FILES: [[own, await _file(social, bob)], [own, 999],
                                    [await _file(social, alice, VIDEO_META)]],
        messages.IMAGE_POST_REPEATED: [[own, own]],
    }
    for message, bad_lists in cases.items():
        for image_ids in bad_lists:
            await _fails(social.post_service.publish(alice, PostType.IMAGE,
                                                     image_ids=image_ids), message)
    assert social.posts.rows == {}
    assert social.users.stats[alice]['post_count'] == 0


async def test_video_post_needs_an_own_video_file(social):
    alice, bob = await _users(social, 'alice', 'bob')
    await _fails(social.post_service.publish(alice, PostType.VIDEO),
                 messages.VIDEO_POST_MISSING)
    for bad in (await _file(social, alice, IMAGE_META), await _file(social, bob, VIDEO_META),
                999):
        await _fails(social.post_service.publish(alice, PostType.VIDEO, video_id=bad),
                     messages.VIDEO_POST_FILE)
    video = await _file(social, alice, VIDEO_META, name='v.mp4')
    post = await social.post_service.publish(alice, PostType.VIDEO, 'caption',
                                             video_id=video)
    assert (post['video_id'], post['image_ids'], post['text']) == (video, [], 'caption')
    assert post['video']['url'] == 'http://testserver/files/b/v.mp4'
    assert post['video']['thumbs']['small'] == ''


async def test_info_of_unknown_post_is_not_found(social):
    [alice] = await _users(social, 'alice')
    with pytest.raises(NotFound) as error:
        await social.post_service.info(1, alice)
    assert error.value.message == messages.POST_NOT_FOUND


async def test_info_reads_a_held_post_beside_its_author_with_the_same_answer(social):
    alice, bob = await _users(social, 'alice', 'bob')
    image = await _file(social, alice)
    post = await social.post_service.publish(alice, PostType.IMAGE, 'a', image_ids=[image])
    await social.post_service.like(bob, post['id'])
    beside = await social.post_service.info(post['id'], bob)  # the fake holds every body
    social.posts.held = lambda post_id: None
    read_first = await social.post_service.info(post['id'], bob)
    assert beside == read_first
    assert (beside['user']['id'], beside['is_liked'], beside['stat']['like_count']) == \
        (alice, True, 1)
    assert [i['id'] for i in beside['images']] == [image]


async def test_info_of_a_deleted_post_still_held_is_not_found(social):
    [alice] = await _users(social, 'alice')
    post = await _text(social, alice)
    body = social.posts.held(post['id'])
    await social.post_service.delete(alice, post['id'])
    social.posts.held = lambda post_id: body  # another process's stale body
    with pytest.raises(NotFound):
        await social.post_service.info(post['id'], alice)


async def test_info_answers_the_post_read_when_the_body_held_is_another_posts(social):
    """SQLite gives a deleted post's id again: a body held for the old post must not
    decide the new post's author."""
    alice, bob = await _users(social, 'alice', 'bob')
    post = await _text(social, bob)
    social.posts.held = lambda post_id: {**post, 'user_id': alice, 'stat': None}
    seen = await social.post_service.info(post['id'], alice)
    assert seen['user']['id'] == bob and seen['user']['username'] == 'bob'


async def test_like_counts_notifies_and_shows_in_is_liked(social):
    alice, bob = await _users(social, 'alice', 'bob')
    post = await _text(social, alice)
    await social.post_service.like(bob, post['id'])
    assert social.messages.sent == [('liked', bob, post['id'])]
    seen = await social.post_service.info(post['id'], bob)
    assert seen['is_liked'] is True and seen['stat']['like_count'] == 1
    assert (await social.post_service.info(post['id'], alice))['is_liked'] is False
    assert social.users.stats[bob]['like_count'] == 1


async def test_liking_twice_is_duplicate_and_unknown_post_not_found(social):
    alice, bob = await _users(social, 'alice', 'bob')
    post = await _text(social, alice)
    await social.post_service.like(bob, post['id'])
    with pytest.raises(Duplicate) as error:
        await social.post_service.like(bob, post['id'])
    assert error.value.message == messages.ALREADY_LIKED
    with pytest.raises(NotFound):
        await social.post_service.like(bob, 999)
    assert len(social.messages.sent) == 1
    assert social.posts.stats[post['id']]['like_count'] == 1


async def test_unlike_is_idempotent_but_needs_a_real_post(social):
    alice, bob = await _users(social, 'alice', 'bob')
    post = await _text(social, alice)
    await social.post_service.like(bob, post['id'])
    await social.post_service.unlike(bob, post['id'])
    await social.post_service.unlike(bob, post['id'])
    assert social.posts.stats[post['id']]['like_count'] == 0
    assert social.users.stats[bob]['like_count'] == 0
    with pytest.raises(NotFound):
        await social.post_service.unlike(bob, 999)


async def test_delete_returns_the_post_as_it_was_and_uncounts_everyone(social):
    alice, bob, carol = await _users(social, 'alice', 'bob', 'carol')
    post = await _text(social, alice)
    kept = await _text(social, alice, 'kept')
    for liker in (bob, carol):
        await social.post_service.like(liker, post['id'])
    await social.post_service.like(bob, kept['id'])
    deleted = await social.post_service.delete(alice, post['id'])
    assert deleted['id'] == post['id'] and deleted['stat']['like_count'] == 2
    assert deleted['text'] == 'hello'
    with pytest.raises(NotFound):
        await social.post_service.info(post['id'], alice)
    assert social.users.stats[alice]['post_count'] == 1
    assert social.users.stats[bob]['like_count'] == 1
    assert social.users.stats[carol]['like_count'] == 0
    posts, total = await social.post_service.liked(bob, bob, limit=20, offset=0)
    assert [p['id'] for p in posts] == [kept['id']] and total == 1


async def test_deleting_another_users_post_is_forbidden(social):
    alice, bob = await _users(social, 'alice', 'bob')
    post = await _text(social, alice)
    with pytest.raises(Forbidden):
        await social.post_service.delete(bob, post['id'])
    with pytest.raises(NotFound):
        await social.post_service.delete(bob, 999)
    assert post['id'] in social.posts.rows


async def test_published_and_liked_pages_are_newest_first_with_totals(social):
    alice, bob = await _users(social, 'alice', 'bob')
    posts = [await _text(social, alice, f'p{i}') for i in range(3)]
    for post in (posts[0], posts[2], posts[1]):
        await social.post_service.like(bob, post['id'])
    page, total = await social.post_service.published(alice, bob, limit=2, offset=0)
    assert [p['text'] for p in page] == ['p2', 'p1'] and total == 3
    page, total = await social.post_service.published(alice, bob, limit=2, offset=2)
    assert [p['text'] for p in page] == ['p0'] and total == 3
    page, total = await social.post_service.liked(bob, alice, limit=20, offset=0)
    assert [p['text'] for p in page] == ['p1', 'p2', 'p0'] and total == 3
    assert [p['is_liked'] for p in page] == [False] * 3  # as alice sees them
    with pytest.raises(NotFound):
        await social.post_service.published(999, bob, limit=20, offset=0)
    with pytest.raises(NotFound):
        await social.post_service.liked(999, bob, limit=20, offset=0)


async def test_timeline_shows_followed_users_only_newest_first_in_windows(social):
    alice, bob, carol, dave = await _users(social, 'alice', 'bob', 'carol', 'dave')
    await social.user_service.follow(alice, bob)
    await social.user_service.follow(alice, carol)
    ids = []
    for author in (bob, carol, dave, alice, bob, carol):
        ids.append((await _text(social, author))['id'])
    visible = [i for i, author in zip(ids, (bob, carol, dave, alice, bob, carol))
               if author in (bob, carol)][::-1]
    page, total = await social.post_service.timeline(alice, limit=2)
    assert [p['id'] for p in page] == visible[:2] and total == 4
    page, _ = await social.post_service.timeline(alice, limit=2, before_id=visible[1])
    assert [p['id'] for p in page] == visible[2:4]
    page, _ = await social.post_service.timeline(alice, limit=1, after_id=visible[3])
    assert [p['id'] for p in page] == [visible[2]]
    page, _ = await social.post_service.timeline(alice, limit=2, after_id=visible[3])
    assert [p['id'] for p in page] == visible[1:3]


async def test_a_saved_post_is_answered_even_if_reads_fail_after_the_commit(social,
                                                                            monkeypatch):
    """The read that built the answer after the commit turned saved posts into 503s."""
    from weiguan.entities.errors import Unavailable
    [alice] = await _users(social, 'alice')
    image = await _file(social, alice)
    create = social.posts.create

    async def create_then_lose_the_database(*args, **kwargs):
        post = await create(*args, **kwargs)

        async def unavailable(*_, **__):
            raise Unavailable()
        for repository in (social.users, social.files, social.likes):
            for name in ('get_many_with_stats', 'get_many', 'liked_among', 'get'):
                if hasattr(repository, name):
                    monkeypatch.setattr(repository, name, unavailable)
        return post
    monkeypatch.setattr(social.posts, 'create', create_then_lose_the_database)
    post = await social.post_service.publish(alice, PostType.IMAGE, 'cap', image_ids=[image])
    assert post['user']['username'] == 'alice'
    assert [i['id'] for i in post['images']] == [image]
    assert (post['is_liked'], post['stat']['like_count']) == (False, 0)
    assert post['user']['stat']['post_count'] == 1
