"""MariaDB deadlocks and lock wait timeouts are retried inside the repository: a
transaction InnoDB chose as a deadlock's victim runs again and succeeds, instead of
answering 503."""
import asyncio

import pymysql
import pytest
import sqlalchemy as sa

from weiguan.dependencies import tables
from weiguan.dependencies.database import CONFLICT_ATTEMPTS, Conflict, retry_conflicts
from weiguan.dependencies.db_errors import translate as _translate

from tests.support.servers import requires_mysql


async def _waiting_for_a_lock(db, task) -> None:
    """Until the repository's UPDATE has been seen blocked twice, 50 ms apart."""
    seen = 0
    for _ in range(100):
        if task.done():
            raise AssertionError(f'no lock wait: {task.result()!r}')
        async with db.connection() as conn:
            running = (await conn.execute(sa.text(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                "WHERE info LIKE 'UPDATE user SET username%'"))).scalar()
        seen = seen + 1 if running else 0
        if seen == 2:
            return
        await asyncio.sleep(0.05)
    raise AssertionError('the repository never waited for the lock')


@requires_mysql
async def test_a_real_deadlock_victim_is_retried_by_the_repository(container, caplog):
    caplog.set_level('INFO', logger='weiguan.dependencies.database')
    users, db = await container.users(), await container.database()
    alice = await users.create('alice', 'h')
    async with db.engine.connect() as other:
        await other.begin()
        # a large transaction, so InnoDB picks the repository's small one as victim
        await other.execute(tables.post.insert(), [
            dict(user_id=alice['id'], type='text', text=str(i), image_ids=[],
                 video_id=None) for i in range(300)])
        await other.execute(tables.user.insert().values(username='target', password='h'))
        change = asyncio.create_task(users.update(alice['id'], username='target'))
        await _waiting_for_a_lock(db, change)  # it holds alice's row, waits on 'target'
        await other.execute(tables.user.update().where(tables.user.c.id == alice['id'])
                            .values(intro='x'))  # the cycle: InnoDB kills the update
        await other.rollback()
    changed = await asyncio.wait_for(change, 10)
    assert changed['username'] == 'target'
    assert (await users.get(alice['id']))['username'] == 'target'
    assert 'retrying UserRepository.update' in caplog.text  # it was the victim


def test_deadlock_and_lock_wait_timeout_are_conflicts_other_errors_are_not():
    for code in (1213, 1205):
        assert isinstance(_translate(pymysql.err.OperationalError(code, 'x')), Conflict)
    assert not isinstance(_translate(pymysql.err.OperationalError(2013, 'lost')), Conflict)


async def test_retries_are_bounded_then_the_conflict_is_an_unavailable():
    calls = []

    @retry_conflicts
    async def always_deadlocked():
        calls.append(1)
        raise Conflict()
    with pytest.raises(Conflict):
        await always_deadlocked()
    assert len(calls) == CONFLICT_ATTEMPTS
