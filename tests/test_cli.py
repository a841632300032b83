"""The CLI as an operator runs it: a subprocess configured by WG_* variables."""
import asyncio
import os
import sys
from pathlib import Path

from weiguan.cli.app import GROUPS, commands
from weiguan.container import build_container
from weiguan.dependencies.tables import metadata
from weiguan.entities import messages

from .conftest import MYSQL_HOST
from .conftest import test_config as make_config

ROOT = Path(__file__).resolve().parent.parent


def cli_env(config: dict, **extra: str) -> dict:
    """The parent environment without any WG_* variable, plus the config's backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith('WG_')}
    for key in ('DATA_PATH', 'MYSQL_HOST', 'MYSQL_PORT', 'MYSQL_USER', 'MYSQL_PASSWORD',
                'MYSQL_DB', 'REDIS_URI'):
        if config[key] is not None:
            env['WG_' + key] = str(config[key])
    env.update(extra)
    return env


async def run_cli(env: dict, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, '-m', 'weiguan.cli.app', *args, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


async def drop_all_tables(config: dict) -> None:
    container = build_container(config)
    await container.init_resources()
    try:
        database = await container.database()
        async with database.transaction() as conn:
            await conn.run_sync(metadata.drop_all)
    finally:
        await container.shutdown_resources()


async def test_create_tables_then_nothing_to_create(tmp_path):
    data = tmp_path / 'fresh' / 'data'  # the data folder does not exist yet
    config = make_config(data)
    if MYSQL_HOST:
        await drop_all_tables(config)  # the test database; later tests recreate them
    env = cli_env(config)

    code, out, err = await run_cli(env, 'model', 'create_tables')
    assert code == 0, err
    assert out.startswith('Created tables: ')
    created = out.strip().removeprefix('Created tables: ').split(', ')
    assert sorted(created) == sorted(metadata.tables)
    if not MYSQL_HOST:
        assert (data / config['SQLITE_FILE']).is_file()

    code, out, err = await run_cli(env, 'model', 'create_tables')
    assert code == 0, err
    assert 'nothing created' in out
    assert 'Created' not in out


async def test_unreachable_database_is_one_clean_line_and_exit_1(tmp_path):
    config = make_config(tmp_path, MYSQL_HOST='127.0.0.1', MYSQL_PORT=1)
    code, out, err = await run_cli(cli_env(config), 'model', 'create_tables')
    assert code == 1
    assert out == ''
    assert 'Traceback' not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith(messages.CLI_FAILED.format(message=messages.UNAVAILABLE))
    assert "Can't connect to MySQL" in last


async def test_bad_config_value_is_one_clean_line_and_exit_1(tmp_path):
    env = cli_env(make_config(tmp_path), WG_MYSQL_PORT='three thousand')
    code, out, err = await run_cli(env, 'model', 'create_tables')
    assert (code, out) == (1, '')
    assert err.strip() == \
        "error: WG_MYSQL_PORT: expected an integer, got 'three thousand'"


async def test_unknown_command_fails(tmp_path):
    code, _, err = await run_cli(cli_env(make_config(tmp_path)), 'model', 'drop_everything')
    assert code != 0
    assert 'drop_everything' in err


def test_every_group_maps_to_a_container_provider(tmp_path):
    groups = commands(build_container(make_config(tmp_path)))
    assert set(groups) == set(GROUPS)
    assert 'model' in groups
    assert callable(groups['model'].create_tables)

