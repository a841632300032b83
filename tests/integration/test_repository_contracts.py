"""One contract per repository port (weiguan/services/ports.py), run against the fake
the unit tests use (tests/support/fakes.py) and against the real adapters on the pass's
database (SQLite in the embedded pass, MariaDB in the other): what the services rely
on, through the port's methods only. A fake that drifts from its adapter fails here."""
from types import SimpleNamespace

import pytest

from tests.support.fakes import FakeFiles, FakeFollowRepo, FakeLikeRepo, FakePostRepo, FakeUsers
from tests.support import provided
from weiguan.entities.errors import Duplicate

IMAGE = {'name': 'a.jpg', 'size': 10, 'type': 'image/jpeg', 'width': 1, 'height': 1,
         'duration': 0}
NAMES = ('users', 'files', 'follows', 'likes', 'posts')
CACHED = NAMES  # every one of them has its cached decorator


@pytest.fixture(params=['fake', 'sql', 'cached'])
async def repos(request, container):
    """The fake, the SQL repositories alone, and the container's (users, files and
    posts cached in front of the SQL ones: dependencies/cached_repositories.py)."""
    if request.param != 'fake':
        names = [f'sql_{n}' if request.param == 'sql' and n in CACHED else n for n in NAMES]
        return SimpleNamespace(**dict(zip(NAMES, await provided(container, *names))))
    files = FakeFiles()
    users = FakeUsers(files)
    follows, likes = FakeFollowRepo(users), FakeLikeRepo(users)
    return SimpleNamespace(users=users, files=files, follows=follows, likes=likes,
                           posts=FakePostRepo(users, follows, likes))


async def _users(repos, *names) -> list[int]:
    return [(await repos.users.create(name, 'hash'))['id'] for name in names]


async def _stat(repos, user_id: int) -> dict:
    stat = (await repos.users.get_many_with_stats([user_id]))[user_id]['stat']
    return {key: stat[key] for key in ('post_count', 'like_count', 'following_count',
                                       'follower_count')}


async def _image(repos, user_id: int, path: str = 'a.jpg') -> dict:
    [row] = await repos.files.create_many([{'user_id': user_id, 'region': 'local',
                                            'bucket': 'default', 'path': path,
                                            'meta': IMAGE}])
    return row


# users

async def test_users_create_find_update_and_get(repos):
    user = await repos.users.create('alice', 'hash', mobile='+8613800000000')
    assert {k: user[k] for k in ('username', 'password', 'mobile', 'email', 'avatar_id',
                                 'intro', 'disabled')} == {
        'username': 'alice', 'password': 'hash', 'mobile': '+8613800000000', 'email': None,
        'avatar_id': None, 'intro': '', 'disabled': False}
    assert (await repos.users.find_by('username', 'alice'))['id'] == user['id']
    assert await repos.users.find_by('username', 'nobody') is None
    changed = await repos.users.update(user['id'], intro='hi')
    assert changed['intro'] == 'hi' and changed['username'] == 'alice'
    assert await repos.users.update(user['id'] + 1000, intro='x') is None
    assert (await repos.users.get(user['id']))['intro'] == 'hi'
    assert await repos.users.get(user['id'] + 1000) is None
    assert set(await repos.users.get_many([user['id'], user['id'] + 1000])) == {user['id']}


async def test_users_unique_fields_name_the_clash(repos):
    alice = await repos.users.create('alice', 'hash', email='a@example.com')
    with pytest.raises(Duplicate) as clash:
        await repos.users.create('alice', 'hash')
    assert clash.value.field == 'username'
    bob = await repos.users.create('bob', 'hash')
    with pytest.raises(Duplicate) as clash:
        await repos.users.update(bob['id'], email='a@example.com')
    assert clash.value.field == 'email'
    assert (await repos.users.get(alice['id']))['email'] == 'a@example.com'


async def test_users_come_with_a_zeroed_stat_and_their_avatar(repos):
    [alice] = await _users(repos, 'alice')
    assert await _stat(repos, alice) == {'post_count': 0, 'like_count': 0,
                                         'following_count': 0, 'follower_count': 0}
    avatar = await _image(repos, alice)
    await repos.users.update(alice, avatar_id=avatar['id'])
    row = (await repos.users.get_many_with_stats([alice, alice + 1000]))
    assert set(row) == {alice}
    assert row[alice]['avatar']['id'] == avatar['id']
    assert row[alice]['avatar']['meta'] == IMAGE


# files

async def test_files_create_many_in_order_get_and_delete(repos):
    [alice] = await _users(repos, 'alice')
    rows = await repos.files.create_many([
        {'user_id': alice, 'region': 'local', 'bucket': 'default', 'path': p, 'meta': IMAGE}
        for p in ('1.jpg', '2.jpg')])
    assert [r['path'] for r in rows] == ['1.jpg', '2.jpg'] and rows[0]['id'] < rows[1]['id']
    assert rows[0]['user_id'] == alice and rows[0]['meta'] == IMAGE
    assert (await repos.files.get(rows[0]['id']))['path'] == '1.jpg'
    assert set(await repos.files.get_many([r['id'] for r in rows])) == {r['id'] for r in rows}
    assert [tuple(t)[2:] for t in await repos.files.locations()] == [
        ('default', '1.jpg'), ('default', '2.jpg')]
    assert [tuple(t)[3] for t in await repos.files.locations(rows[0]['id'])] == ['2.jpg']
    await repos.files.delete(rows[0]['id'])
    assert await repos.files.get(rows[0]['id']) is None


# follows

async def test_follows_count_once_and_page_newest_first(repos):
    alice, bob, carol = await _users(repos, 'alice', 'bob', 'carol')
    assert await repos.follows.follow(alice, bob) is True
    assert await repos.follows.follow(alice, carol) is True
    with pytest.raises(Duplicate):
        await repos.follows.follow(alice, bob)
    assert await repos.follows.follow(alice, carol + 1000) is False
    assert await repos.follows.followings(alice, 10, 0) == [carol, bob]
    assert await repos.follows.followings(alice, 1, 1) == [bob]
    assert await repos.follows.followers(bob, 10, 0) == [alice]
    assert await repos.follows.following_among(alice, [bob, carol, alice]) == {bob, carol}
    assert (await _stat(repos, alice))['following_count'] == 2
    assert (await _stat(repos, bob))['follower_count'] == 1
    assert await repos.follows.unfollow(alice, bob) is True
    assert await repos.follows.unfollow(alice, bob) is False
    assert (await _stat(repos, alice))['following_count'] == 1
    assert (await _stat(repos, bob))['follower_count'] == 0


# posts and likes

async def test_a_post_held_is_its_body_as_created_or_nothing(repos):
    """`held` (no I/O) answers nothing, or the post's body, its stat aside: the
    service then reads the stat, which says whether the post is still there."""
    [alice] = await _users(repos, 'alice')
    post = await repos.posts.create(alice, 'text', 'hello', [], None)
    body = {k: v for k, v in post.items() if k != 'stat'}
    held = repos.posts.held(post['id'])
    assert held is None or held == body
    assert repos.posts.held(post['id'] + 1000) is None
    await repos.posts.delete(post['id'], alice)
    assert await repos.posts.get_with_stat(post['id']) is None  # whatever is held


async def test_posts_keep_the_counters_and_deleting_takes_the_likes(repos):
    alice, bob = await _users(repos, 'alice', 'bob')
    image = await _image(repos, alice)
    post = await repos.posts.create(alice, 'image', 'hello', [image['id']], None)
    assert (post['user_id'], post['type'], post['text'], post['image_ids'],
            post['video_id']) == (alice, 'image', 'hello', [image['id']], None)
    assert post['stat']['like_count'] == 0
    assert (await _stat(repos, alice))['post_count'] == 1
    assert await repos.likes.like(bob, post['id']) is True
    with pytest.raises(Duplicate):
        await repos.likes.like(bob, post['id'])
    assert await repos.likes.like(bob, post['id'] + 1000) is False
    assert await repos.likes.liked_among(bob, [post['id'], post['id'] + 1000]) == {post['id']}
    assert (await repos.posts.get_with_stat(post['id']))['stat']['like_count'] == 1
    assert (await _stat(repos, bob))['like_count'] == 1
    assert await repos.posts.delete(post['id'], bob) is False  # not bob's
    assert await repos.posts.delete(post['id'], alice) is True
    assert await repos.posts.get(post['id']) is None
    assert await repos.posts.get_with_stat(post['id']) is None
    assert (await _stat(repos, alice))['post_count'] == 0
    assert (await _stat(repos, bob))['like_count'] == 0
    assert await repos.likes.liked_among(bob, [post['id']]) == set()


async def test_unlike_counts_once(repos):
    alice, bob = await _users(repos, 'alice', 'bob')
    post = await repos.posts.create(alice, 'text', 'hi', [], None)
    await repos.likes.like(bob, post['id'])
    assert await repos.likes.unlike(bob, post['id']) is True
    assert await repos.likes.unlike(bob, post['id']) is False
    assert (await repos.posts.get_with_stat(post['id']))['stat']['like_count'] == 0
    assert (await _stat(repos, bob))['like_count'] == 0


async def test_published_liked_and_timeline_pages(repos):
    alice, bob, carol = await _users(repos, 'alice', 'bob', 'carol')
    ids = [(await repos.posts.create(author, 'text', f'p{n}', [], None))['id']
           for n, author in enumerate((alice, bob, alice, carol))]
    assert [p['id'] for p in await repos.posts.published(alice, 10, 0)] == [ids[2], ids[0]]
    assert [p['id'] for p in await repos.posts.published(alice, 1, 1)] == [ids[0]]
    for post_id in (ids[1], ids[0]):
        await repos.likes.like(carol, post_id)
    assert [p['id'] for p in await repos.posts.liked(carol, 10, 0)] == [ids[0], ids[1]]
    await repos.follows.follow(carol, alice)
    await repos.follows.follow(carol, bob)
    assert [p['id'] for p in await repos.posts.timeline(carol, 10)] == [ids[2], ids[1],
                                                                      ids[0]]
    assert [p['id'] for p in await repos.posts.timeline(carol, 1, before_id=ids[2])] == [
        ids[1]]
    assert [p['id'] for p in await repos.posts.timeline(carol, 1, after_id=ids[0])] == [
        ids[1]]
    assert await repos.posts.timeline_total(carol) == 3
    assert await repos.posts.timeline(alice, 10) == []
    assert await repos.posts.timeline_total(alice) == 0


# the feeds' bounded reads

async def test_followers_come_in_keyset_batches(repos):
    star, *fans = await _users(repos, 'star', 'a', 'b', 'c')
    for fan in fans:
        await repos.follows.follow(fan, star)
    first = await repos.follows.followers_after(star, 0, 2)
    assert [follower for _, follower in first] == fans[:2]
    rest = await repos.follows.followers_after(star, first[-1][0], 2)
    assert [follower for _, follower in rest] == fans[2:]
    assert await repos.follows.followers_after(star, rest[-1][0], 2) == []


async def test_the_feed_reads_of_posts(repos):
    alice, bob, carol, dave = await _users(repos, 'alice', 'bob', 'carol', 'dave')
    ids = [(await repos.posts.create(author, 'text', f'p{n}', [], None))['id']
           for n, author in enumerate((alice, bob, alice, carol, bob, alice))]
    rows = await repos.posts.get_many_with_stat([ids[1], ids[2], ids[5] + 1000])
    assert sorted(rows) == [ids[1], ids[2]]
    assert rows[ids[1]]['stat']['like_count'] == 0 and rows[ids[1]]['user_id'] == bob
    assert await repos.posts.author_ids(alice, 2) == [ids[5], ids[2]]
    assert await repos.posts.ids_of([alice, bob], ids[0], ids[5], 2, True) == [ids[4], ids[2]]
    assert await repos.posts.ids_of([alice, bob], ids[0], ids[5], 2, False) == [ids[1], ids[2]]
    assert await repos.posts.ids_of([], 0, ids[5], 2, True) == []
    for author in (alice, bob, carol):
        await repos.follows.follow(dave, author)
    # the newest of the followed users' posts, and the timeline's total with them
    assert await repos.posts.recent_ids(dave, 10) == (ids[::-1], 6)
    assert await repos.posts.recent_ids(dave, 2) == ([ids[5], ids[4]], 6)
    assert await repos.posts.recent_ids(dave, 3) == ([ids[5], ids[4], ids[3]], 6)
    await repos.follows.unfollow(dave, bob)
    assert await repos.posts.recent_ids(dave, 3) == ([ids[5], ids[3], ids[2]], 4)
    assert await repos.posts.recent_ids(bob, 3) == ([], 0)
