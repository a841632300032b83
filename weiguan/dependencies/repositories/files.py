import sqlalchemy as sa

from .. import tables
from ..database import retry_conflicts
from .base import Repository


class FileRepository(Repository):
    table = tables.file

    @retry_conflicts
    async def create(self, user_id: int, region: str, bucket: str, path: str,
                     meta: dict) -> dict:
        async with self.db.transaction() as conn:
            return await self._insert(conn, user_id=user_id, region=region, bucket=bucket,
                                      path=path, meta=meta)

    @retry_conflicts
    async def create_many(self, files: list[dict]) -> list[dict]:
        """Insert every file row (user_id, region, bucket, path, meta) or none, in one
        transaction; the rows come back in the order given."""
        async with self.db.transaction() as conn:
            return [await self._insert(conn, **values) for values in files]

    @retry_conflicts
    async def delete(self, id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(self.table.delete().where(self.table.c.id == id))

    async def locations(self, after_id: int = 0, limit: int = 1000) -> list[tuple]:
        """(id, region, bucket, path) of the rows after `after_id`, by id: a table of
        any size read a page at a time (files prune)."""
        c = self.table.c
        async with self.db.connection() as conn:
            result = await conn.execute(sa.select(c.id, c.region, c.bucket, c.path)
                                        .where(c.id > after_id).order_by(c.id).limit(limit))
            return [tuple(row) for row in result]
