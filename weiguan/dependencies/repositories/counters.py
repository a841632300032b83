"""The denormalised counters (user_stat, post_stat), changed inside the caller's
transaction together with the rows they count, so they are always exact.

Every change is an atomic `col = col + n` UPDATE on the stat row found through its
unique key (a record lock only, no gap lock). A missing stat row is created on first
need: insert-if-missing (the unique index keeps one of two racing creators), then the
same UPDATE again. A decrement never creates a row (it would start below zero).
The statements are prepared (one per table and set of columns), so they run on the
driver inside a prepared transaction, or on an engine connection (EngineStatements).
"""
from functools import cache

import sqlalchemy as sa

from .. import tables
from ..database import Statements, insert_ignore
from ..prepared import Prepared
from .base import NOW, param

user_stat, post_stat, post_like = tables.user_stat, tables.post_stat, tables.post_like


@cache
def _update(table: sa.Table, key: str, columns: tuple[str, ...]) -> Prepared:
    return Prepared(table.update().where(table.c[key] == param('key')).values(
        {name: table.c[name] + param(f'add_{name}') for name in columns}
        | {'updated_at': NOW}))


@cache
def _create(table: sa.Table, key: str) -> Prepared:
    """Insert the zeroed row unless its key exists."""
    return Prepared(insert_ignore(table).values(
        {key: param('key'), 'created_at': NOW, 'updated_at': NOW}))


async def _add(statements: Statements, table: sa.Table, key: str, key_value: int,
               deltas: dict[str, int]) -> None:
    update = _update(table, key, tuple(sorted(deltas)))
    now = tables.utcnow()
    params = {f'add_{name}': delta for name, delta in deltas.items()}
    if await statements.run(update, key=key_value, now=now, **params) or \
            min(deltas.values()) < 0:
        return  # done, or nothing to take from: a missing row is left to the reconcile
    await statements.run(_create(table, key), key=key_value, now=now)
    await statements.run(update, key=key_value, now=now, **params)


async def add_to_users(statements: Statements, changes: dict[int, dict[str, int]]) -> None:
    """Add {user_id: {column: delta}}. Rows are changed in ascending user id, one lock
    order for every writer, so two opposite follows cannot deadlock."""
    for user_id in sorted(changes):
        await _add(statements, user_stat, 'user_id', user_id, changes[user_id])


async def add_to_user(statements: Statements, user_id: int, **deltas: int) -> None:
    await add_to_users(statements, {user_id: deltas})


async def add_to_post(statements: Statements, post_id: int, **deltas: int) -> None:
    await _add(statements, post_stat, 'post_id', post_id, deltas)


async def uncount_likes_of(conn, post_id: int) -> None:
    """Every liker of the post likes one post less: one set-based UPDATE, run before
    the likes themselves are deleted."""
    likers = sa.select(post_like.c.user_id).where(post_like.c.post_id == post_id)
    await conn.execute(user_stat.update().where(user_stat.c.user_id.in_(likers))
                       .values(like_count=user_stat.c.like_count - 1))
