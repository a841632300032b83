"""The SQLAlchemy engine (MariaDB or SQLite) and, on MariaDB, the driver's own pools
(asyncmy's or aiomysql's, as MYSQL_DRIVER says) for the prepared statements, with
the DATETIME parsing aiomysql's pools use."""
import asyncio
from datetime import datetime, timezone
from typing import Any

import aiomysql
import asyncmy
import sqlalchemy as sa
from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions, convert_datetime
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .tables import UTCDateTime


SQLITE_CLOSE_WAIT = 1.0  # seconds a cancelled SQLite connection's close may take


async def _close_without_hanging(self: AsyncAdapt_aiosqlite_connection) -> None:
    """SQLAlchemy's graceful close of an aiosqlite connection whose task was
    cancelled mid-query, made unable to hang. SQLAlchemy closes it in a shielded task
    and, once the caller is cancelled, also stops it by force (`stop()`); when the
    force comes first, aiosqlite's thread ends before the graceful close's request
    and its `close()` then waits for ever, and so did the loop's shutdown (a test run
    hung 6 times in 30 on a WebSocket reset mid-query; wapiti-scanner/wapiti#802
    met the same). Here the close is `stop()` itself (the sqlite3 connection closed
    in its thread, which then ends), awaited without cancelling anything and within
    SQLITE_CLOSE_WAIT."""
    stopped = self._connection.stop()
    if stopped is not None:
        await asyncio.wait({stopped}, timeout=SQLITE_CLOSE_WAIT)


AsyncAdapt_aiosqlite_connection._terminate_graceful_close = (  # type: ignore[method-assign]
    _close_without_hanging)


def create_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    if url.startswith('sqlite'):
        engine = create_async_engine(url, connect_args={'timeout': 30})

        @sa.event.listens_for(engine.sync_engine, 'connect')
        def _sqlite_pragmas(dbapi_conn, _record):
            cursor = dbapi_conn.cursor()
            cursor.execute('PRAGMA journal_mode=WAL')  # readers do not wait for writers
            cursor.execute('PRAGMA synchronous=NORMAL')
            cursor.close()
        return engine
    # No pre-ping (a round trip per checkout): a connection found dead fails its
    # request with 503 and makes SQLAlchemy discard every older pooled connection.
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                               pool_recycle=3600, connect_args={'connect_timeout': 5})


def _utc_datetime(text: str) -> datetime | str:
    """A DATETIME value as UTCDateTime reads it (aware, UTC), parsed in C: pymysql's
    own parser and then the type's processor cost ~2.4 µs a value, this ~0.8, and a
    timeline page holds ~130 of them."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except ValueError:
        return convert_datetime(text)  # what pymysql gives (a zero date stays text)


# Types whose values aiomysql's pools already give in their final form (asyncmy
# parses DATETIME in C to a naive value: UTCDateTime's processor then adds the zone).
DRIVER_CONVERTED = (UTCDateTime,)


def driver_converted(dialect) -> tuple[type, ...]:
    """The types a driver pool of `dialect`'s driver gives in their final form."""
    return DRIVER_CONVERTED if dialect.driver == 'aiomysql' else ()


DriverPool = Any  # an aiomysql.Pool or an asyncmy Pool: the same calls on both


async def create_driver_pool(engine: AsyncEngine, size: int = 20, autocommit: bool = True,
                             cursor: type | None = None) -> DriverPool | None:
    """MySQL only: the driver's own pool for prepared statements (prepared.py).
    Autocommit for reads, which then cost one round trip (no BEGIN, no ROLLBACK)
    and see the latest commits; without, for prepared transactions. Connection
    arguments are the engine's, from its URL; `cursor` is the class of the cursors
    (tracing gives one that spans each statement; the driver's own by default)."""
    if engine.dialect.name != 'mysql':
        return None
    _, params = engine.dialect.create_connect_args(engine.url)
    if engine.dialect.driver == 'asyncmy':
        if cursor is not None:
            params['cursor_cls'] = cursor
        return await asyncmy.create_pool(minsize=0, maxsize=size, autocommit=autocommit,
                                         pool_recycle=3600, connect_timeout=5, **params)
    conv = {**conversions, FIELD_TYPE.DATETIME: _utc_datetime}
    return await aiomysql.create_pool(minsize=0, maxsize=size, autocommit=autocommit,
                                      pool_recycle=3600, connect_timeout=5, conv=conv,
                                      cursorclass=cursor or aiomysql.Cursor, **params)
