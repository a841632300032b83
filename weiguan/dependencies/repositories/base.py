from typing import Any, Iterable

import sqlalchemy as sa

from ..database import Database
from ..prepared import Prepared
from ..tables import UTCDateTime


IDS: sa.BindParameter[list[int]] = sa.bindparam('ids', expanding=True)


def param(name: str) -> sa.BindParameter:
    """A named parameter of a prepared statement (values come at execution)."""
    return sa.bindparam(name, type_=sa.Integer)


# The time a prepared write stamps (created_at, updated_at): given at execution,
# as the columns' Python-side defaults are not applied to prepared statements.
NOW = sa.bindparam('now', type_=UTCDateTime)


def row_dict(row: Any) -> dict | None:
    return None if row is None else dict(row)


class Repository:
    table: sa.Table
    BY_ID: Prepared
    BY_IDS: Prepared

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'table' in cls.__dict__:  # each table's reads by id, prepared once
            cls.BY_ID = Prepared(cls.table.select().where(cls.table.c.id == param('id')))
            cls.BY_IDS = Prepared(cls.table.select().where(cls.table.c.id.in_(IDS)))

    def __init__(self, db: Database):
        self.db = db

    async def get(self, id: int) -> dict | None:
        return await self.db.fetch_one(self.BY_ID, id=id)

    async def get_many(self, ids: Iterable[int]) -> dict[int, dict]:
        """Rows by id, in one statement."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return {}
        return {row['id']: row for row in await self.db.fetch_all(self.BY_IDS, ids=list(ids))}

    async def _insert(self, conn, **values: Any) -> dict:
        result = await conn.execute(self.table.insert().values(**values))
        row_id = result.inserted_primary_key[0]
        row = (await conn.execute(self.table.select().where(self.table.c.id == row_id)))
        return dict(row.mappings().one())
