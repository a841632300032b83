"""The CLI as an operator runs it: a subprocess configured by WG_* variables."""
import asyncio
import os
import sys
from pathlib import Path

from weiguan.cli.app import GROUPS, commands
from weiguan.container import build_container
from weiguan.dependencies.migrations import SchemaMigrations
from weiguan.entities import messages

from tests.support.servers import MYSQL_HOST, drop_schema
from tests.support.servers import test_config as make_config

ROOT = Path(__file__).resolve().parents[2]


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


async def emptied(config: dict) -> None:
    """The test database without any table (later tests recreate them)."""
    container = build_container(config)
    await container.init_resources()
    try:
        await drop_schema(container)
    finally:
        await container.shutdown_resources()


async def test_create_tables_brings_an_empty_database_to_the_head(tmp_path):
    data = tmp_path / 'fresh' / 'data'  # the data folder does not exist yet
    config = make_config(data)
    if MYSQL_HOST:
        await emptied(config)
    env = cli_env(config)
    head = SchemaMigrations.head()
    try:
        code, out, err = await run_cli(env, 'model', 'create_tables')
        assert code == 0, err
        assert out.strip() == messages.SCHEMA_UPGRADED.format(before='empty', head=head)
        if not MYSQL_HOST:
            assert (data / config['SQLITE_FILE']).is_file()

        code, out, err = await run_cli(env, 'model', 'create_tables')
        assert (code, out.strip()) == (0, messages.SCHEMA_AT_HEAD.format(head=head)), err
        code, out, err = await run_cli(env, 'model', 'current')
        assert (code, out.strip()) == (0, f'{head} (head)'), err
    finally:
        if MYSQL_HOST:
            await emptied(config)


async def test_upgrade_downgrade_current_history(tmp_path):
    config = make_config(tmp_path)
    if MYSQL_HOST:
        await emptied(config)
    env = cli_env(config)
    try:
        code, out, err = await run_cli(env, 'model', 'current')
        assert (code, out.strip()) == (0, f'base (head is {SchemaMigrations.head()})'), err
        code, out, err = await run_cli(env, 'model', 'upgrade', '--revision=0001')
        assert (code, out.strip()) == (0, 'Upgraded from base to 0001.'), err
        code, out, err = await run_cli(env, 'model', 'upgrade')
        assert (code, out.strip()) == (0, 'Upgraded from 0001 to 0002.'), err
        code, out, _ = await run_cli(env, 'model', 'upgrade')
        assert out.strip() == 'Already at 0002; nothing to do.'
        code, out, err = await run_cli(env, 'model', 'downgrade', '--revision=base')
        assert (code, out.strip()) == (0, 'Downgraded from 0002 to base.'), err
        code, out, err = await run_cli(env, 'model', 'history')
        assert code == 0, err
        assert [line.split(':')[0] for line in out.strip().splitlines()] == \
            ['0001 -> 0002', 'base -> 0001']
        code, out, err = await run_cli(env, 'model', 'downgrade')  # --revision is needed
        assert code != 0 and 'revision' in err.lower()
        code, out, err = await run_cli(env, 'model', 'upgrade', '--revision=nope')
        assert code == 1 and out == ''
        assert err.strip().splitlines()[-1].startswith('error: The migration was refused')
    finally:
        if MYSQL_HOST:
            await emptied(config)


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
    assert set(groups) == set(GROUPS) == {'model', 'schedule', 'user', 'files', 'worker'}
    assert callable(groups['model'].create_tables)


LISTED = {'model': ['create_tables', 'current', 'downgrade', 'history', 'upgrade'],
          'schedule': ['run'],
          'user': ['create', 'disable', 'enable', 'reset_password'],
          'files': ['prune'],
          'worker': ['run']}


def listed_commands(help_text: str) -> list[str]:
    """The names under COMMANDS (or GROUPS) in Fire's help, with their help lines."""
    section = help_text.split('is one of the following:', 1)[1]
    lines = [line for line in section.splitlines() if line.strip()]
    names = [line.strip() for line in lines if line.startswith('     ')
             and not line.startswith('       ')]
    helps = [line.strip() for line in lines if line.startswith('       ')]
    assert len(helps) == len(names), help_text  # every command has its help line
    return names


async def test_help_lists_each_command_once_with_help_and_no_internals(tmp_path):
    env = cli_env(make_config(tmp_path), PAGER='cat')
    code, out, err = await run_cli(env, '--help')  # Fire writes help to stderr in a pipe
    assert code == 0, err
    assert listed_commands(out + err) == list(LISTED)
    for group, names in LISTED.items():
        code, out, err = await run_cli(env, group, '--help')
        assert code == 0, err
        assert listed_commands(out + err) == names, out + err
        assert 'run_locked' not in out + err



def test_progress_is_a_bar_on_a_terminal_and_tenth_lines_in_a_pipe():
    import io
    from weiguan.cli.progress import Progress
    bar_stream = io.StringIO()
    bar = Progress('prune', stream=bar_stream, interactive=True, unit='file')
    for done in range(1, 51):
        bar(done, 50)
    bar.close()
    assert '50/50' in bar_stream.getvalue() and '100%|' in bar_stream.getvalue()

    pipe = io.StringIO()
    lines = Progress('prune', stream=pipe, unit='file')  # StringIO is no terminal
    for done in range(1, 1001):
        lines(done, 1000)
    lines.close()
    printed = pipe.getvalue().splitlines()
    assert printed[0] == 'prune: 1/1000 files (0%)'
    assert printed[-1] == 'prune: 1000/1000 files (100%)'
    assert len(printed) == 11  # one per tenth, not one per item
