from typing import Any, Iterable

import sqlalchemy as sa

from ..database import Database


IDS = sa.bindparam('ids', expanding=True)


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
            result = await conn.execute(self._by_ids(), {'ids': list(ids)})
            return {row['id']: dict(row) for row in result.mappings()}

    @classmethod
    def _by_ids(cls) -> sa.Select:
        # Built once per class: SQLAlchemy memoizes a statement's cache key, so a
        # reused statement skips construction and key generation on every call.
        statement = cls.__dict__.get('_by_ids_statement')
        if statement is None:
            statement = cls.table.select().where(cls.table.c.id.in_(IDS))
            cls._by_ids_statement = statement
        return statement

    async def _insert(self, conn, **values: Any) -> dict:
        result = await conn.execute(self.table.insert().values(**values))
        row_id = result.inserted_primary_key[0]
        row = (await conn.execute(self.table.select().where(self.table.c.id == row_id)))
        return dict(row.mappings().one())
