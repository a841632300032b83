"""The in-process caches (weiguan/dependencies/caches.py): bounded, expiring on an
injected clock, and filled only over what the reader saw."""
from datetime import datetime, timezone

from weiguan.dependencies import caches
from weiguan.dependencies import local_rows
from weiguan.dependencies.caches import DecodedEntries, MemoryCache, decode, encode, new_marker, stat_entry
from weiguan.dependencies.local_rows import LocalRows


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_fill_lands_only_over_what_its_reader_saw():
    cache = MemoryCache(max_entries=10, ttl=60)
    [seen] = await cache.get_many(['k'])
    marker = new_marker()
    await cache.put({'k': marker})  # a change answered after the reader's miss
    await cache.fill({'k': (seen, encode({'intro': 'old'}))})
    assert await cache.get_many(['k']) == [marker]
    await cache.fill({'k': (marker, encode({'intro': 'new'}))})  # read after the change
    assert decode((await cache.get_many(['k']))[0]) == {'intro': 'new'}


async def test_entries_expire_and_the_least_recently_used_go_first():
    clock = Clock()
    cache = MemoryCache(max_entries=2, ttl=60, clock=clock)
    await cache.put({'a': '=1', 'b': '=2'})
    assert await cache.get_many(['a']) == ['=1']  # a is now the most recent
    await cache.put({'c': '=3'})
    assert await cache.get_many(['a', 'b', 'c']) == ['=1', None, '=3']
    clock.now += 60
    assert await cache.get_many(['a', 'c']) == [None, None]


def test_local_rows_are_bounded():
    rows = LocalRows(max_entries=2)
    for i in range(3):
        rows.put(i, {'id': i})
    assert [rows.get(i) for i in range(3)] == [None, {'id': 1}, {'id': 2}]
    rows.discard(1)
    assert rows.get(1) is None


def test_rows_come_back_with_their_times_and_json():
    at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    row = {'id': 1, 'created_at': at, 'meta': {'name': 'a_at', 'x_at': 'not a time'},
           'avatar': {'id': 2, 'updated_at': at, 'meta': {'seen_at': 'text'}}, 'avatar_id': 2}
    assert decode(encode(row)) == row
    assert decode(new_marker()) is None and decode(None) is None


def test_a_stat_row_is_valid_only_under_the_epoch_it_was_read_in():
    entry = stat_entry({'post_count': 3}, '~epoch1')
    decoded = DecodedEntries(10)
    assert decoded.stat(entry, '~epoch1') == {'post_count': 3}
    assert decoded.stat(entry, '~epoch1') is decoded.stat(entry, '~epoch1')  # memoized
    assert decoded.stat(entry, '~epoch2') is None
    assert decoded.stat(entry, None) is None  # no epoch (flushed, evicted): nothing trusted
    assert decoded.stat(new_marker(), '~epoch1') is None and decoded.stat(None, '~epoch1') is None


def test_decoded_entries_are_shared_per_text_and_bounded():
    decoded = DecodedEntries(max_entries=2)
    entry = encode({'id': 1, 'created_at': '2026-12-02T06:00:00+00:00', 'stat': {'n': 1}})
    first = decoded.shared(entry)
    assert first['id'] == 1 and first['created_at'].year == 2026
    assert decoded.shared(entry) is first  # the same row until the entry changes
    assert decoded.shared(encode({'id': 1, 'intro': 'new'})) is not first
    assert decoded.shared(new_marker()) is None and decoded.shared(None) is None
    for n in range(3):
        decoded.shared(encode({'id': n}))
    assert len(decoded._rows) == 2  # least recently used dropped


def test_id_sets_are_read_under_their_epoch_and_memoized_within_their_bound(monkeypatch):
    monkeypatch.setattr(caches, 'ID_SETS_MEMO', 3)
    decoded = DecodedEntries(10)
    small, large = stat_entry({'ids': [3, 1]}, 'e1'), stat_entry({'ids': [1, 2, 3, 4]}, 'e1')
    too_many = stat_entry({'ids': None}, 'e1')
    assert decoded.id_set(small, 'e1') == (True, frozenset({1, 3}))
    assert decoded.id_set(small, 'e1')[1] is decoded.id_set(small, 'e1')[1]  # memoized
    assert decoded.id_set(small, 'e2') == (False, None)  # another epoch: a miss
    assert decoded.id_set(large, 'e1') == (True, frozenset({1, 2, 3, 4}))  # not memoized
    assert decoded.id_set(too_many, 'e1') == (True, None)
    assert decoded.id_set(new_marker(), 'e1') == (False, None)
    assert decoded.id_set(None, 'e1') == (False, None)
    assert decoded.id_set(small, None) == (False, None)


def test_a_joined_row_is_the_same_object_while_both_halves_are():
    joined = local_rows.JoinedRows('stat', max_entries=1)
    body, stat = {'id': 1, 'text': 'p'}, {'like_count': 0}
    row = joined(1, body, stat)
    assert row == {'id': 1, 'text': 'p', 'stat': stat} and joined(1, body, stat) is row
    fresh = {'like_count': 1}  # the stat changed: another row
    assert joined(1, body, fresh)['stat'] is fresh and joined(1, body, fresh) is not row
    other = joined(2, {'id': 2}, stat)  # the only entry now: 1's goes
    assert joined(2, {'id': 2}, stat) is not other  # another body, even if equal
    assert joined(1, body, fresh) == {'id': 1, 'text': 'p', 'stat': fresh}


def test_an_id_set_entry_is_named_by_its_head_once_held():
    decoded = DecodedEntries(10)
    entry = stat_entry(caches.id_set_row([3, 1]), 'e1')
    other = stat_entry(caches.id_set_row([3, 1]), 'e1')  # the same ids, another write
    head = entry[:caches.ID_SET_HEAD]
    assert head.startswith(caches.TOKENED) and head != other[:caches.ID_SET_HEAD]
    assert decoded.id_set_by_head(head, 'e1') == (False, None)  # not held yet
    assert decoded.id_set(entry, 'e1') == (True, frozenset({1, 3}))
    assert decoded.id_set_by_head(head, 'e1') == (True, frozenset({1, 3}))
    assert decoded.id_set_by_head(head, 'e2') == (False, None)  # another epoch
    assert decoded.id_set_by_head(other[:caches.ID_SET_HEAD], 'e1') == (False, None)
    assert decoded.id_set_by_head(head, None) == (False, None)
    assert decoded.id_set_by_head(None, 'e1') == (False, None)
    marker = new_marker()
    assert decoded.id_set_by_head(marker[:caches.ID_SET_HEAD], 'e1') == (False, None)


def test_an_id_set_entry_of_the_old_format_is_never_named_by_its_head():
    """Without a token two sets' entries may begin alike: only the whole entry names one."""
    decoded = DecodedEntries(10)
    old = stat_entry({'ids': [1, 2, 3, 4, 5, 6, 7, 8]}, 'e1')
    assert decoded.id_set(old, 'e1') == (True, frozenset(range(1, 9)))
    assert decoded.id_set_by_head(old[:caches.ID_SET_HEAD], 'e1') == (False, None)
