from typing import Any, Iterable

import sqlalchemy as sa

from ..database import Database


def row_dict(row: Any) -> dict | None:
    return None if row is None else dict(row)


class Repository:
    table: sa.Table

    def __init__(self, db: Database):
        self.db = db

    async def get(self, id: int) -> dict | None:
        async with self.db.connection() as conn:
            result = await conn.execute(self.table.select().where(self.table.c.id == id))
            return row_dict(result.mappings().first())

    async def get_many(self, ids: Iterable[int]) -> dict[int, dict]:
        """Rows by id, in one statement."""
        ids = {i for i in ids if i is not None}
        if not ids:
            return {}
        async with self.db.connection() as conn:
            result = await conn.execute(self.table.select().where(self.table.c.id.in_(ids)))
            return {row['id']: dict(row) for row in result.mappings()}

    async def _insert(self, conn, **values: Any) -> dict:
        result = await conn.execute(self.table.insert().values(**values))
        row_id = result.inserted_primary_key[0]
        row = (await conn.execute(self.table.select().where(self.table.c.id == row_id)))
        return dict(row.mappings().one())
