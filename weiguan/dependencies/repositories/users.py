import re

import sqlalchemy as sa

from ...entities.errors import Duplicate
from .. import tables
from ..database import retry_conflicts
from ..prepared import Prepared
from .base import IDS, Repository, row_dict

UNIQUE_FIELDS = ('username', 'mobile', 'email')


_CLASH = re.compile(r"for key '(?:\w+\.)?uq_user_(\w+)'"       # MySQL names the index
                    r"|UNIQUE constraint failed: user\.(\w+)")   # SQLite the column


def _duplicate_field(error: Duplicate) -> str | None:
    """Which unique field a duplicate-key error names: read from the driver's message
    only (the statement and the values may mention any field)."""
    cause = error.__cause__
    match = _CLASH.search(str(getattr(cause, 'orig', None) or cause or ''))
    field = match and (match.group(1) or match.group(2))
    return field if field in UNIQUE_FIELDS else None


class UserRepository(Repository):
    table = tables.user

    @retry_conflicts
    async def create(self, username: str, password_hash: str, **contacts: str) -> dict:
        """A user (with `mobile`, `email` when given) and its zeroed stat row, in one
        transaction."""
        try:
            async with self.db.transaction() as conn:
                user = await self._insert(conn, username=username, password=password_hash,
                                          **contacts)
                await conn.execute(tables.user_stat.insert().values(user_id=user['id']))
                return user
        except Duplicate as error:
            error.field = _duplicate_field(error)
            raise

    @retry_conflicts
    async def delete(self, id: int) -> None:
        """A user with nothing but its stat row (a registration being undone)."""
        async with self.db.transaction() as conn:
            await conn.execute(tables.user_stat.delete().where(
                tables.user_stat.c.user_id == id))
            await conn.execute(self.table.delete().where(self.table.c.id == id))

    @retry_conflicts
    async def update(self, id: int, **values) -> dict | None:
        try:
            async with self.db.transaction() as conn:
                await conn.execute(self.table.update().where(self.table.c.id == id)
                                   .values(**values))
                result = await conn.execute(self.table.select().where(self.table.c.id == id))
                return row_dict(result.mappings().first())
        except Duplicate as error:
            error.field = _duplicate_field(error)
            raise

    async def find_by(self, field: str, value: str) -> dict | None:
        return await self.db.fetch_one(FIND_BY[field], value=value)

    async def get_many_with_stats(self, ids) -> dict[int, dict]:
        """Users by id, each with its stat row under 'stat' and its avatar file row
        under 'avatar' (None where missing), in one statement."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return {}
        rows = await self.db.fetch_all(PROFILES_BY_IDS, ids=list(ids))
        return {row['id']: row for row in rows}

    async def stats_many(self, ids) -> dict[int, dict]:
        """Only the stat rows, by user id (the cached profiles' mutable part)."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return {}
        rows = await self.db.fetch_all(STATS_BY_IDS, ids=list(ids))
        return {row['user_id']: row for row in rows}


def _find_by(field: str) -> Prepared:
    """One user by a unique field: the index finds it, and the case-folded form
    must then match exactly, on MariaDB as on SQLite (tables.exact_lower)."""
    column, value = tables.user.c[field], sa.bindparam('value', type_=sa.String())
    return Prepared(tables.user.select().where(
        column == value, tables.exact_lower(column) == tables.exact_lower(value)))


FIND_BY = {field: _find_by(field) for field in UNIQUE_FIELDS}

_avatar = tables.file.alias('avatar')
# No password hash: every column read costs parsing in the driver, and profiles are
# read on nearly every request.
PROFILES = (sa.select(*[c for c in tables.user.c if c.name != 'password'],
                      *[c.label(f'stat_{c.name}') for c in tables.user_stat.c],
                      *[c.label(f'avatar__{c.name}') for c in _avatar.c])
            .select_from(tables.user
                         .outerjoin(tables.user_stat,
                                    tables.user_stat.c.user_id == tables.user.c.id)
                         .outerjoin(_avatar, _avatar.c.id == tables.user.c.avatar_id)))
PROFILES_BY_IDS = Prepared(PROFILES.where(tables.user.c.id.in_(IDS)),
                           nest=('stat_', 'avatar__'))

STATS_BY_IDS = Prepared(tables.user_stat.select().where(tables.user_stat.c.user_id.in_(IDS)))
