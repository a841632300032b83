"""`Database`: transactions, connections and prepared statements on the engine and
the driver pools (db_engine.py), every failure translated into the product's errors
(db_errors.py). Repositories run every statement through it."""
import asyncio
import inspect
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..entities.errors import Unavailable
from .db_engine import DriverPool, create_driver_pool, create_engine, driver_converted
from .db_errors import (CONFLICT_ATTEMPTS, Conflict, ErrorCounter, intact, raise_translated,
                        retry_conflicts, translate)
from .prepared import Prepared

# Where the repositories and the container import them from.
__all__ = ['CONFLICT_ATTEMPTS', 'Conflict', 'Database', 'DriverStatements', 'EngineStatements',
           'Statements', 'create_driver_pool', 'create_engine', 'insert_ignore',
           'retry_conflicts']

log = logging.getLogger(__name__)


class EngineStatements:
    """Prepared statements run on a SQLAlchemy connection (SQLite, or inside an
    engine transaction)."""

    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def run(self, prepared: Prepared, **params) -> int:
        return (await self.conn.execute(prepared.statement, params)).rowcount

    async def fetch_all(self, prepared: Prepared, **params) -> list[dict]:
        return prepared.shape.dicts(await self.conn.execute(prepared.statement, params))


async def _cursor(conn: Any) -> Any:
    """A cursor of a driver connection: aiomysql's `cursor()` is awaited, asyncmy's not."""
    cursor = conn.cursor()
    return await cursor if inspect.isawaitable(cursor) else cursor


class DriverStatements:
    """Prepared statements run on a driver connection."""

    def __init__(self, conn: Any, dialect):
        self.conn = conn
        self.dialect = dialect

    async def run(self, prepared: Prepared, **params) -> int:
        sql, args = prepared.plan(self.dialect, driver_converted(self.dialect)).arguments(params)
        cursor = await _cursor(self.conn)
        await cursor.execute(sql, args)
        return cursor.rowcount


Statements = EngineStatements | DriverStatements


def insert_ignore(table: sa.Table) -> sa.Insert:
    """INSERT that silently skips a row whose unique key exists (MySQL IGNORE,
    SQLite OR IGNORE): one statement for both dialects, so it can be prepared."""
    return (table.insert().prefix_with('IGNORE', dialect='mysql')
            .prefix_with('OR IGNORE', dialect='sqlite'))


def _drop(held: list[AsyncConnection]) -> None:
    """Close the socket under the driver's connection (its deadline passed): what
    waits on it fails at once, as on a lost connection."""
    for conn in held:
        try:
            conn.sync_connection.connection.driver_connection.close()
        except Exception as error:  # already closed or invalidated: nothing to drop
            log.debug('dropping a connection: %s', error)


class Database:
    """Transactions and connections on the engine, with errors translated."""

    def __init__(self, engine: AsyncEngine, read_pool: DriverPool | None = None,
                 write_pool: DriverPool | None = None, timeout: float | None = None,
                 count_error: ErrorCounter | None = None):
        self.engine = engine
        self.count_error = count_error
        self.read_pool = read_pool
        self.write_pool = write_pool
        self.dialect = engine.dialect.name  # 'mysql' or 'sqlite'
        # The deadline of one block, connecting included: a driver's read waits for
        # ever, so a partitioned or frozen server would hold a request forever. A local
        # SQLite file cannot be partitioned away; its lock waits have their own timeout.
        self.timeout = timeout if timeout and self.dialect != 'sqlite' else None
        self.converted = driver_converted(engine.dialect)
        self._clearing: dict[DriverPool, asyncio.Task] = {}

    @asynccontextmanager
    async def _translated(self, opener, deadline: bool = True
                          ) -> AsyncIterator[AsyncConnection]:
        try:
            if self.timeout is None or not deadline:
                async with opener() as conn:
                    yield conn
            else:
                # At the deadline the task is cancelled (TimeoutError, an OSError) and
                # the connection's socket closed: SQLAlchemy shields the ROLLBACK it
                # sends on the way out, which would otherwise wait for the dead server.
                # The pool then discards the connection as lost.
                loop = asyncio.get_running_loop()
                ends, held = loop.time() + self.timeout, list[AsyncConnection]()
                drop = loop.call_at(ends, _drop, held)
                try:
                    async with asyncio.timeout_at(ends):
                        async with opener() as conn:
                            held.append(conn)
                            yield conn
                finally:
                    drop.cancel()
        except Exception as error:
            raise_translated(error, self.count_error)

    def transaction(self):
        """One transaction: committed when the block ends, rolled back on any error."""
        return self._translated(self.engine.begin)

    def schema_change(self):
        """A transaction without the deadline: migrations (DDL on a large table can
        take minutes) and nothing else. On MySQL each DDL statement commits itself."""
        return self._translated(self.engine.begin, deadline=False)

    def connection(self):
        """A connection for reads that are not prepared (batch jobs, tools)."""
        return self._translated(self.engine.connect)

    async def fetch_all(self, prepared: Prepared, **params) -> list[dict]:
        """The rows of a prepared read, as dicts keyed by its selected columns."""
        if self.read_pool is None:
            async with self.connection() as conn:
                return await EngineStatements(conn).fetch_all(prepared, **params)
        plan = prepared.plan(self.engine.dialect, self.converted)
        sql, args = plan.arguments(params)
        async with self._driver(self.read_pool) as conn:
            cursor = await _cursor(conn)
            await cursor.execute(sql, args)
            rows = await cursor.fetchall()
        return prepared.shape.dicts(rows, plan.result_processors)

    async def fetch_one(self, prepared: Prepared, **params) -> dict | None:
        rows = await self.fetch_all(prepared, **params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def prepared_transaction(self) -> AsyncIterator['Statements']:
        """One transaction of prepared statements (`run` gives each one's row count):
        committed when the block ends, rolled back on any error. On MySQL it runs on
        the driver, like fetch_all; a like costs a third less CPU that way."""
        if self.write_pool is None:
            async with self.transaction() as conn:
                yield EngineStatements(conn)
            return
        async with self._driver(self.write_pool, transaction=True) as conn:
            yield DriverStatements(conn, self.engine.dialect)

    @asynccontextmanager
    async def _driver(self, pool: DriverPool, transaction: bool = False):
        """A connection of one of the driver pools for the block, within the
        deadline, with errors translated as for the engine. A connection that may
        be mid-query (lost, cancelled) is closed, never reused."""
        try:
            async with asyncio.timeout(self.timeout):
                conn = await pool.acquire()
                try:
                    yield conn
                    if transaction:
                        await conn.commit()
                except BaseException as error:
                    if intact(error):
                        if transaction:
                            await conn.rollback()
                    else:
                        conn.close()
                    raise
                finally:
                    pool.release(conn)
        except Exception as error:
            translated = translate(error)
            if isinstance(translated, Unavailable) and not isinstance(translated, Conflict):
                self._clear_later(pool)
            raise_translated(error, self.count_error)

    def _clear_later(self, pool: DriverPool) -> None:
        """Close the pool's idle connections (its idle peers likely went the same way
        as the one that failed) without holding the answer: `clear()` waits for the
        pool's lock, which a connect in progress holds until its own deadline."""
        if pool not in self._clearing:
            task = asyncio.get_running_loop().create_task(self._clear(pool))
            self._clearing[pool] = task
            task.add_done_callback(lambda _: self._clearing.pop(pool, None))

    async def _clear(self, pool: DriverPool) -> None:
        """asyncmy says QUIT to each connection it clears: within the deadline, so a
        partitioned one cannot hold the pool's lock for long."""
        try:
            async with asyncio.timeout(self.timeout):
                await pool.clear()
        except Exception as error:  # TimeoutError, a socket's: the pool stays usable
            log.debug('clearing a driver pool: %r', error)

    async def ping(self) -> None:
        async with self.transaction() as conn:
            await conn.execute(sa.text('SELECT 1'))

    def connections_in_use(self) -> dict[str, int]:
        """Connections checked out now, per pool (engine, and the driver pools)."""
        checked_out = getattr(self.engine.sync_engine.pool, 'checkedout', lambda: 0)
        pools = (('driver_read', self.read_pool), ('driver_write', self.write_pool))
        return {'engine': checked_out(), **{name: pool.size - pool.freesize
                                            for name, pool in pools if pool is not None}}

    async def dispose(self) -> None:
        for task in list(self._clearing.values()):
            task.cancel()
        await self.engine.dispose()
        for pool in (self.read_pool, self.write_pool):
            if pool is not None:
                pool.close()
                await pool.wait_closed()
