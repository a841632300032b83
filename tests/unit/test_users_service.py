"""UserService on in-memory fakes: the rules of following and of seeing users."""
import pytest

from tests.support.fakes_social import IMAGE_META, make_social
from weiguan.entities import messages
from weiguan.entities.errors import Duplicate, Fail, NotFound


@pytest.fixture
def social():
    return make_social()


async def _users(social, *names):
    users = [await social.users.create(name, 'hash') for name in names]
    return [u['id'] for u in users]


async def test_info_hides_contact_data_from_others_and_shows_it_to_the_owner(social):
    alice, bob = await _users(social, 'alice', 'bob')
    avatar = await social.files.create(alice, 'local', 'b', 'a.jpg', IMAGE_META)
    await social.users.update(alice, mobile='+8613800000000', email='a@example.com',
                              avatar_id=avatar['id'])
    seen_by_bob = await social.user_service.info(alice, viewer_id=bob)
    assert (seen_by_bob['mobile'], seen_by_bob['email']) == (None, None)
    assert 'password' not in seen_by_bob
    assert seen_by_bob['avatar']['url'] == 'http://testserver/files/b/a.jpg'
    assert seen_by_bob['is_following'] is False
    seen_by_alice = await social.user_service.info(alice, viewer_id=alice)
    assert seen_by_alice['mobile'] == '+8613800000000'
    assert seen_by_alice['email'] == 'a@example.com'


async def test_info_of_an_unknown_user_is_not_found(social):
    [alice] = await _users(social, 'alice')
    with pytest.raises(NotFound) as error:
        await social.user_service.info(999, viewer_id=alice)
    assert error.value.message == messages.USER_NOT_FOUND


async def test_follow_counts_notifies_and_shows_in_is_following(social):
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    assert social.messages.sent == [('followed', alice, bob)]
    assert social.users.stats[alice]['following_count'] == 1
    assert social.users.stats[bob]['follower_count'] == 1
    assert (await social.user_service.info(bob, viewer_id=alice))['is_following'] is True
    assert (await social.user_service.info(alice, viewer_id=bob))['is_following'] is False


async def test_following_yourself_fails(social):
    [alice] = await _users(social, 'alice')
    with pytest.raises(Fail) as error:
        await social.user_service.follow(alice, alice)
    assert error.value.message == messages.FOLLOW_SELF
    assert social.follows.rows == []


async def test_following_twice_is_duplicate_and_notifies_once(social):
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    with pytest.raises(Duplicate) as error:
        await social.user_service.follow(alice, bob)
    assert error.value.message == messages.ALREADY_FOLLOWING
    assert len(social.messages.sent) == 1
    assert social.users.stats[bob]['follower_count'] == 1


async def test_following_an_unknown_user_is_not_found(social):
    [alice] = await _users(social, 'alice')
    with pytest.raises(NotFound):
        await social.user_service.follow(alice, 999)
    assert social.messages.sent == []


async def test_unfollow_is_idempotent_but_needs_a_real_user(social):
    alice, bob = await _users(social, 'alice', 'bob')
    await social.user_service.follow(alice, bob)
    await social.user_service.unfollow(alice, bob)
    await social.user_service.unfollow(alice, bob)
    assert social.users.stats[alice]['following_count'] == 0
    assert social.users.stats[bob]['follower_count'] == 0
    with pytest.raises(NotFound):
        await social.user_service.unfollow(alice, 999)


async def test_followings_and_followers_are_newest_first_with_totals(social):
    alice, bob, carol, dave = await _users(social, 'alice', 'bob', 'carol', 'dave')
    for target in (bob, carol, dave):
        await social.user_service.follow(alice, target)
    await social.user_service.follow(bob, carol)
    users, total = await social.user_service.followings(alice, bob, limit=2, offset=0)
    assert [u['id'] for u in users] == [dave, carol] and total == 3
    assert [u['is_following'] for u in users] == [False, True]  # as bob sees them
    users, total = await social.user_service.followings(alice, bob, limit=2, offset=2)
    assert [u['id'] for u in users] == [bob] and total == 3
    users, total = await social.user_service.followers(carol, carol, limit=20, offset=0)
    assert [u['id'] for u in users] == [bob, alice] and total == 2


async def test_lists_of_an_unknown_user_are_not_found(social):
    [alice] = await _users(social, 'alice')
    with pytest.raises(NotFound):
        await social.user_service.followings(999, alice, limit=20, offset=0)
    with pytest.raises(NotFound):
        await social.user_service.followers(999, alice, limit=20, offset=0)
