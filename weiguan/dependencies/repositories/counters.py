"""The denormalised counters (user_stat, post_stat), changed inside the caller's
transaction together with the rows they count, so they are always exact.

Every change is an atomic `col = col + n` UPDATE on the stat row found through its
unique key (a record lock only, no gap lock). A missing stat row is created on first
need: insert-if-missing (the unique index keeps one of two racing creators), then the
same UPDATE again. A decrement never creates a row (it would start below zero).
"""
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .. import tables
from ..database import Database

user_stat, post_stat, post_like = tables.user_stat, tables.post_stat, tables.post_like


async def _add(db: Database, conn: AsyncConnection, table: sa.Table, key: str,
               key_value: int, deltas: dict[str, int]) -> None:
    update = (table.update().where(table.c[key] == key_value)
              .values({name: table.c[name] + delta for name, delta in deltas.items()}))
    if (await conn.execute(update)).rowcount or min(deltas.values()) < 0:
        return  # done, or nothing to take from: a missing row is left to the reconcile
    await conn.execute(db.insert_ignore(table, [key]).values({key: key_value}))
    await conn.execute(update)


async def add_to_users(db: Database, conn: AsyncConnection,
                       changes: dict[int, dict[str, int]]) -> None:
    """Add {user_id: {column: delta}}. Rows are changed in ascending user id, one lock
    order for every writer, so two opposite follows cannot deadlock."""
    for user_id in sorted(changes):
        await _add(db, conn, user_stat, 'user_id', user_id, changes[user_id])


async def add_to_user(db: Database, conn: AsyncConnection, user_id: int,
                      **deltas: int) -> None:
    await add_to_users(db, conn, {user_id: deltas})


async def add_to_post(db: Database, conn: AsyncConnection, post_id: int,
                      **deltas: int) -> None:
    await _add(db, conn, post_stat, 'post_id', post_id, deltas)


async def uncount_likes_of(conn: AsyncConnection, post_id: int) -> None:
    """Every liker of the post likes one post less: one set-based UPDATE, run before
    the likes themselves are deleted."""
    likers = sa.select(post_like.c.user_id).where(post_like.c.post_id == post_id)
    await conn.execute(user_stat.update().where(user_stat.c.user_id.in_(likers))
                       .values(like_count=user_stat.c.like_count - 1))
