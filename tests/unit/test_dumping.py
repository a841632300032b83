"""The compiled dumps give exactly what marshmallow's own dump gives."""
from datetime import datetime, timezone

import marshmallow
import orjson
import pytest

from weiguan.entities import views
from weiguan.entities.dumping import CompiledDumpSchema, _memoized, compile_dumper

NOW = datetime(2026, 11, 23, 10, 15, 0, 123456, tzinfo=timezone.utc)
WHOLE_SECOND = datetime(2026, 11, 23, 10, 15, 0, tzinfo=timezone.utc)


def file(id, **extra):
    return {'id': id, 'user_id': 1, 'region': 'local', 'bucket': 'b', 'path': f'{id}.jpg',
            'meta': {'name': 'a.jpg', 'size': 10, 'type': 'image/jpeg', 'width': 3},
            'url': 'http://x/b/1.jpg', 'thumbs': {'small': '', 'middle': '', 'large': '',
                                                   'huge': ''},
            'created_at': NOW, 'updated_at': WHOLE_SECOND, **extra}


USER = {'id': 1, 'username': 'alice', 'mobile': None, 'email': 'a@example.com',
        'avatar_id': 1, 'intro': '', 'created_at': NOW, 'updated_at': NOW,
        'avatar': file(1), 'password': 'never dumped',
        'stat': {'id': 1, 'user_id': 1, 'post_count': 2, 'like_count': 0,
                 'following_count': 1, 'follower_count': 0, 'created_at': NOW,
                 'updated_at': NOW}}
POST = {'id': 9, 'user_id': 1, 'type': 'image', 'text': 'hi', 'image_ids': [1, 2],
        'video_id': None, 'created_at': NOW, 'updated_at': NOW, 'user': USER,
        'images': [file(1), file(2, meta={'name': 'b', 'size': 1, 'type': 'image/png',
                                          'width': 1, 'height': 2, 'duration': 1.5})],
        'video': None, 'stat': None, 'is_liked': True}
CASES = [
    (views.user_view, USER),
    (views.user_view, dict(USER, avatar=None, stat=None, is_following=False)),
    (views.users_view, [USER, dict(USER, id=2, is_following=True)]),
    (views.post_view, POST),
    (views.posts_view, [POST, dict(POST, user=dict(USER, avatar=None), images=[])]),
    (views.file_view, file(3)),
    (views.files_view, [file(4), file(5)]),
]


@pytest.mark.parametrize('schema, obj', CASES)
def test_compiled_dump_matches_marshmallow(schema, obj, monkeypatch):
    fast = orjson.dumps(schema.dump(obj))
    monkeypatch.setattr(CompiledDumpSchema, 'dump', marshmallow.Schema.dump)
    reference = orjson.dumps(type(schema)(many=schema.many).dump(obj))
    assert fast == reference


def wire(dumped):
    """What the client reads of a dump (a memoized part is JSON already)."""
    return orjson.loads(orjson.dumps(dumped))


def test_passwords_never_leave_and_absent_keys_stay_absent():
    dumped = wire(views.user_view.dump(USER))
    assert 'password' not in dumped and 'isFollowing' not in dumped
    assert dumped['avatar']['meta']['height'] == 0  # dump_default fills the gap


def test_an_unknown_field_type_is_refused_at_compile_time():
    class Odd(marshmallow.Schema):
        when = marshmallow.fields.TimeDelta()
    with pytest.raises(TypeError):
        compile_dumper(Odd())


def test_a_memoized_dump_is_kept_per_object_for_the_last_objects_dumped():
    calls = []

    def dump_one(obj):
        calls.append(obj['id'])
        return {'id': obj['id']}
    dump = _memoized(dump_one, size=2)
    a, b, c = {'id': 1}, {'id': 2}, {'id': 3}
    assert dump(a) is dump(a) and calls == [1]  # kept: the same dump again
    assert wire(dump(a)) == {'id': 1}  # written as JSON once
    assert wire(dump(dict(a))) == {'id': 1} and calls == [1, 1]  # an equal copy is another object
    dump(b), dump(c)  # a's entry, the oldest, goes
    assert wire(dump(a)) == {'id': 1} and calls == [1, 1, 2, 3, 1]


def test_file_views_are_dumped_once_per_presented_file():
    presented = file(6)
    first = views.file_view.dump(presented)
    assert views.files_view.dump([presented])[0] is first
    assert views.file_view.dump(presented) is first
    assert wire(first)['createdAt'] == NOW.isoformat()


@pytest.mark.parametrize('schema', [views.UserStatView, views.PostStatView])
def test_stat_views_are_dumped_once_per_stat_row(schema):
    """A cached stat row is the same object while it holds: dumped once; a new
    row (the stat changed) is dumped anew."""
    row = dict(USER['stat'], post_id=9)
    first = schema().dump(row)
    assert schema().dump(row) is first
    changed = dict(row, like_count=5)
    assert wire(schema().dump(changed))['likeCount'] == 5
    assert wire(schema().dump(row))['likeCount'] == 0
