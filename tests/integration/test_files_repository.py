"""FileRepository on the real database (SQLite by default, MariaDB when configured)."""
import pytest

from weiguan.entities.errors import Duplicate

META = {'name': '猫 photo 🐱.jpg', 'size': 1234, 'type': 'image/jpeg', 'width': 40,
        'height': 30, 'duration': 0}


def row(path: str, user_id: int = 7, **meta) -> dict:
    return {'user_id': user_id, 'region': 'local', 'bucket': 'avatar', 'path': path,
            'meta': {**META, **meta}}


@pytest.fixture
async def files(container):
    return await container.files()


async def test_create_many_returns_the_rows_in_order(files):
    created = await files.create_many([row('b/2.jpg'), row('a/1.png', type='image/png'),
                                       row('3.bin', user_id=8)])

    assert [f['path'] for f in created] == ['b/2.jpg', 'a/1.png', '3.bin']
    assert len({f['id'] for f in created}) == 3
    assert [f['user_id'] for f in created] == [7, 7, 8]
    assert created[1]['meta'] == {**META, 'type': 'image/png'}
    for file in created:
        assert file['created_at'].tzinfo is not None
        assert file['updated_at'] >= file['created_at']
    assert await files.get_many(f['id'] for f in created) == {f['id']: f for f in created}


async def test_meta_round_trips_through_json(files):
    [created] = await files.create_many([row('x.jpg')])
    stored = await files.get(created['id'])
    assert stored['meta'] == META and stored == created


async def test_create_many_is_all_or_nothing(files):
    [first] = await files.create_many([row('taken.jpg')])
    with pytest.raises(Duplicate):
        await files.create_many([row('new.jpg'), row('taken.jpg')])
    assert await files.get(first['id'] + 1) is None
    assert await files.get(first['id'] + 2) is None
    [after] = await files.create_many([row('new.jpg')])  # the rolled-back one is free
    assert after['path'] == 'new.jpg'


async def test_create_get_and_delete_one(files):
    created = await files.create(user_id=3, region='local', bucket='post', path='p/1.gif',
                                 meta=META)
    assert await files.get(created['id']) == created
    assert (await files.get_many([created['id'], None, 999_999])) == {created['id']: created}
    await files.delete(created['id'])
    assert await files.get(created['id']) is None
    assert await files.get_many([]) == {}
