"""Presenting users and posts (weiguan/services/hydration.py): the same rows and
flags give the same view object again (its dump is kept by identity), and anything
that differs gives a view of its own with what differs."""
from weiguan.services.file_links import FileLinks
from weiguan.services.hydration import PostHydrator, Presented, UserHydrator

STAT = {'id': 1, 'user_id': 1, 'post_count': 1, 'like_count': 0, 'following_count': 0,
        'follower_count': 2}
USER = {'id': 1, 'username': 'alice', 'password': 'hash', 'mobile': '13800000000',
        'email': 'a@example.com', 'avatar_id': None, 'intro': '', 'stat': STAT}
IMAGE = {'id': 7, 'user_id': 1, 'region': '', 'bucket': 'b', 'path': 'a.jpg',
         'meta': {'name': 'a.jpg', 'size': 1, 'type': 'image/jpeg'}}
POST = {'id': 3, 'user_id': 1, 'type': 'image', 'text': '', 'image_ids': [7],
        'video_id': None, 'stat': {'id': 3, 'post_id': 3, 'like_count': 0}}


def hydrators() -> tuple[UserHydrator, PostHydrator]:
    links = FileLinks('http://cdn.test')
    users = UserHydrator(users=None, files=None, follows=None, links=links)
    return users, PostHydrator(users, likes=None, links=links)


def test_a_user_is_presented_once_per_row_and_relation_to_the_viewer():
    users, _ = hydrators()
    seen = users.present_user(USER, viewer_id=2, avatar=None, is_following=True)
    assert 'password' not in seen and seen['mobile'] is None and seen['is_following']
    assert users.present_user(USER, 2, None, True) is seen
    assert users.present_user(USER, 5, None, True) is seen  # any follower sees the same
    assert users.present_user(USER, 2, None, False)['is_following'] is False
    own = users.present_user(USER, 1, None, False)
    assert own['mobile'] == USER['mobile'] and own['email'] == USER['email']
    assert users.present_user(USER, 3, None, False)['mobile'] is None  # not the owner's
    assert 'is_following' not in users.present_user(USER, None, None, False)
    changed = dict(USER, intro='new')  # a changed profile is another row
    assert users.present_user(changed, 2, None, True)['intro'] == 'new'
    assert users.present_user(USER, 2, None, True) is seen


def test_a_post_is_presented_once_per_rows_author_files_and_like():
    users, posts = hydrators()
    author = users.present_user(USER, 2, None, True)
    files = {7: IMAGE}
    seen = posts.present(POST, 2, author, files, is_liked=False)
    assert [image['url'] for image in seen['images']] == ['http://cdn.test/b/a.jpg']
    assert seen['user'] is author and seen['is_liked'] is False and seen['video'] is None
    assert posts.present(POST, 2, author, {7: IMAGE}, False) is seen
    assert posts.present(POST, 2, author, files, True)['is_liked'] is True
    assert 'is_liked' not in posts.present(POST, None, author, files, False)
    assert posts.present(POST, 2, author, {}, False)['images'] == []  # the image deleted
    liked = dict(POST, stat=dict(POST['stat'], like_count=1))
    assert posts.present(liked, 2, author, files, False)['stat']['like_count'] == 1
    other = users.present_user(USER, 2, None, False)
    assert posts.present(POST, 2, other, files, False)['user'] is other


def test_views_are_kept_for_the_last_max_entries_keys():
    views = Presented(max_entries=1)
    a, b = {'id': 1}, {'id': 2}
    views.put((id(a),), (a,), {'view': 1})
    assert views.get((id(a),)) == {'view': 1}
    views.put((id(b),), (b,), {'view': 2})
    assert views.get((id(a),)) is None and views.get((id(b),)) == {'view': 2}
