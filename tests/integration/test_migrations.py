"""The migrations on the real database of the pass (SQLite, then MariaDB): they
build the schema the models describe, undo it, and adopt a database made before
they existed."""
import pytest
import sqlalchemy as sa

from weiguan.dependencies import tables
from weiguan.dependencies.migrations import SchemaMigrations, schema_differences
from weiguan.entities.errors import Fail


@pytest.fixture
async def migrations(bare_container) -> SchemaMigrations:
    return await bare_container.schema_migrations()


async def differences(migrations, target=tables.metadata) -> list:
    async with migrations.database.schema_change() as conn:
        return await conn.run_sync(lambda sync: schema_differences(sync, target))


def _snapshot(sync) -> dict:
    inspector = sa.inspect(sync)
    return {name: (sorted((c['name'], str(c['type']), c['nullable'])
                          for c in inspector.get_columns(name)),
                   sorted((i['name'], tuple(i['column_names']), bool(i['unique']))
                          for i in inspector.get_indexes(name)))
            for name in inspector.get_table_names()}


async def snapshot(migrations) -> dict:
    async with migrations.database.schema_change() as conn:
        return await conn.run_sync(_snapshot)


async def create_with(migrations, metadata: sa.MetaData) -> None:
    async with migrations.database.schema_change() as conn:
        await conn.run_sync(metadata.create_all)


def without_disabled() -> sa.MetaData:
    """The models as they were before the second revision: what the old
    `create_tables` (metadata.create_all) made."""
    old = sa.MetaData()
    for table in tables.metadata.sorted_tables:
        columns = [c._copy() for c in table.columns if c.name != 'disabled']
        indexes = [sa.Index(i.name, *[c.name for c in i.columns], unique=i.unique)
                   for i in table.indexes]
        sa.Table(table.name, old, *columns, *indexes, **table.kwargs)
    return old


async def test_upgrade_builds_the_models_schema_and_records_the_head(migrations):
    assert await migrations.current() is None
    assert await migrations.upgrade() == (None, migrations.head())
    assert await migrations.current() == migrations.head()
    assert await differences(migrations) == []  # autogenerate would write nothing
    assert await migrations.upgrade() == (migrations.head(), migrations.head())


async def test_upgrade_downgrade_upgrade_leaves_the_same_schema(migrations):
    await migrations.upgrade()
    first = await snapshot(migrations)
    assert set(first) == set(tables.metadata.tables) | {'alembic_version'}

    await migrations.downgrade('0001')
    revision_one = migrations.history()[-1]
    assert revision_one.id == '0001' and await migrations.current() == '0001'
    assert 'disabled' not in {c[0] for c in (await snapshot(migrations))['user'][0]}

    assert await migrations.downgrade('base') == ('0001', None)
    assert set(await snapshot(migrations)) == {'alembic_version'}

    await migrations.upgrade()
    assert await snapshot(migrations) == first
    assert await differences(migrations) == []


async def test_the_first_revision_is_the_schema_before_migrations(migrations):
    await migrations.upgrade('0001')
    assert await differences(migrations, without_disabled()) == []


async def test_a_pre_migration_database_is_adopted_with_its_rows(migrations):
    await create_with(migrations, without_disabled())
    async with migrations.database.schema_change() as conn:
        await conn.execute(sa.text(
            "INSERT INTO user (username, password, intro, created_at, updated_at) "
            "VALUES ('alice', 'h', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            .replace('user', '`user`' if migrations.database.dialect == 'mysql'
                     else '"user"', 1)))

    said = await migrations.bring_to_head()
    assert 'adopted' in said and '0001' in said
    assert await migrations.current() == migrations.head()
    assert await differences(migrations) == []
    async with migrations.database.schema_change() as conn:
        rows = (await conn.execute(sa.select(tables.user.c.username,
                                             tables.user.c.disabled))).all()
    assert [tuple(r) for r in rows] == [('alice', False)]
    assert 'nothing to do' in await migrations.bring_to_head()


async def test_an_empty_database_is_brought_to_the_head(migrations):
    assert 'from empty' in await migrations.bring_to_head()
    assert await migrations.current() == migrations.head()
    assert await differences(migrations) == []


async def test_a_database_matching_no_revision_is_refused_and_left_alone(migrations):
    odd = without_disabled()
    odd.tables['post'].indexes.clear()  # ix_post_user missing
    odd.remove(odd.tables['post_stat'])
    await create_with(migrations, odd)
    before = await snapshot(migrations)
    with pytest.raises(Fail) as refused:
        await migrations.bring_to_head()
    assert 'ix_post_user' in refused.value.message or 'post_stat' in refused.value.message
    assert await snapshot(migrations) == before  # no alembic_version, nothing altered
    assert await migrations.current() is None


async def test_an_unknown_revision_is_a_clean_refusal(migrations):
    with pytest.raises(Fail) as refused:
        await migrations.upgrade('nonsense')
    assert 'nonsense' in refused.value.message


async def test_the_server_start_brings_the_database_to_the_head(bare_container, config):
    """DB_CREATE_TABLES (on by default for SQLite) runs what `model create_tables` runs."""
    from tests.support.servers import start_server, stop_server
    config = {**config, 'DB_CREATE_TABLES': True}
    handle, server = await start_server(config)
    try:
        migrations = await server.container.schema_migrations()
        assert await migrations.current() == migrations.head()
        assert await differences(migrations) == []
    finally:
        await stop_server(handle)
