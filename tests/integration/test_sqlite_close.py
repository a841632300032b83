"""A SQLite connection closed by SQLAlchemy after its task was cancelled mid-query
(dependencies/db_engine.py, `_close_without_hanging`). SQLAlchemy's terminate runs the
graceful close in a shielded task and, when its caller is cancelled, stops the
connection by force as well, in either order; aiosqlite's own close() then waited for
ever when the force came first, and the event loop's shutdown with it."""
import asyncio

from weiguan.dependencies.db_engine import create_engine


async def adapted_connection(engine):
    conn = await engine.connect()
    raw = await conn.get_raw_connection()
    return conn, raw.dbapi_connection  # SQLAlchemy's adapter of the aiosqlite connection


async def test_a_graceful_close_after_a_forced_one_ends(tmp_path):
    engine = create_engine(f'sqlite+aiosqlite:///{tmp_path / "close.db"}')
    conn, adapted = await adapted_connection(engine)
    adapted._terminate_force_close()  # the cancelled caller's, first
    closing = asyncio.ensure_future(adapted._terminate_graceful_close())
    done, _ = await asyncio.wait({closing}, timeout=3)
    assert done == {closing} and closing.exception() is None
    await conn.invalidate()
    await engine.dispose()


async def test_a_graceful_close_alone_closes_the_connection(tmp_path):
    engine = create_engine(f'sqlite+aiosqlite:///{tmp_path / "close.db"}')
    conn, adapted = await adapted_connection(engine)
    await asyncio.wait_for(adapted._terminate_graceful_close(), 3)
    assert adapted._connection._connection is None  # the sqlite3 connection closed
    await conn.invalidate()
    await engine.dispose()
