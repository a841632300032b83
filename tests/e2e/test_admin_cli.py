"""The operator's commands (`user ...`, `files prune`) as subprocesses, against a
running server on the same backends: what they change is what the app then sees."""
import os
import time

import pytest

from weiguan.entities import messages

from tests.support.servers import REDIS_URI, requires_redis
from tests.support import PASSWORD, call, create_file, logged_in, provided
from tests.e2e.test_cli import cli_env, run_cli


async def login(client, username: str, password: str = PASSWORD) -> dict:
    return await call(client, 'POST', '/account/login', username=username, password=password)


async def is_logged_in(client) -> bool:
    return (await call(client, 'GET', '/account/info'))['data']['user'] is not None


async def test_user_create_makes_an_account_that_can_log_in(server, config, make_client):
    env = cli_env(config)
    code, out, err = await run_cli(env, 'user', 'create', '--username=carol',
                                   '--password', '12345678e1', '--mobile=+8613800000001',
                                   '--email=carol@example.com')
    assert code == 0, err
    assert out.startswith('Created user carol (id ')
    # Taken as typed: Fire alone would read these two as numbers.
    body = await login(make_client(), 'carol', '12345678e1')
    assert body['code'] == 'ok'
    user = body['data']['user']
    assert (user['mobile'], user['email']) == ('+8613800000001', 'carol@example.com')
    assert (await call(make_client(), 'POST', '/account/login', mobile='+8613800000001',
                       password='12345678e1'))['code'] == 'ok'

    code, out, err = await run_cli(env, 'user', 'create', '--username=Carol',
                                   f'--password={PASSWORD}')
    assert (code, out) == (1, '')
    assert err.strip() == f'error: {messages.USERNAME_TAKEN}'


@pytest.mark.parametrize('values, field', [
    (dict(username='1bad', password=PASSWORD), 'username'),
    (dict(username='dave', password='short1'), 'password'),
    (dict(username='dave', password='lettersonly'), 'password'),
    (dict(username='dave', password=PASSWORD, email='not-an-address'), 'email'),
    (dict(username='dave', password=PASSWORD, mobile=12), 'mobile'),  # Fire gives ints
])
async def test_user_create_applies_the_registration_rules(container, values, field):
    """In process (the command object the CLI runs): the rules, not the subprocess."""
    from weiguan.entities.errors import InvalidParam
    command = await container.user_command()
    with pytest.raises(InvalidParam) as refused:
        await command.create(**values)
    assert refused.value.message.startswith(f'{field}: ')
    users = await container.users()
    assert await users.find_by('username', 'dave') is None


async def test_disable_and_enable(server, config, make_client):
    client, _ = await logged_in(make_client, 'erin')
    env = cli_env(config)
    code, out, err = await run_cli(env, 'user', 'disable', '--username=erin')
    assert code == 0, err
    body = await login(make_client(), 'erin')
    assert (body['code'], body['message']) == ('fail', messages.ACCOUNT_DISABLED)
    if REDIS_URI:  # sessions are shared with the CLI only through Redis
        assert out.strip() == 'User erin disabled; 1 sessions ended.'
        assert not await is_logged_in(client)

    code, out, err = await run_cli(env, 'user', 'enable', '--username=erin')
    assert (code, out.strip()) == (0, 'User erin enabled.'), err
    assert (await login(make_client(), 'erin'))['code'] == 'ok'

    code, out, err = await run_cli(env, 'user', 'disable', '--username=nobody')
    assert (code, err.strip()) == (1, f'error: {messages.USER_NOT_FOUND}')


async def test_disabling_ends_the_sessions_at_once(server, make_client):
    """In the server's own process (the embedded store included): the next request
    of every session of the user is not authenticated."""
    phone, _ = await logged_in(make_client, 'frank')
    tablet = make_client()
    assert (await login(tablet, 'frank'))['code'] == 'ok'
    other, _ = await logged_in(make_client, 'grace')
    [accounts] = await provided(server.container, 'account_service')
    assert await accounts.set_disabled('frank', True) == 2
    assert not await is_logged_in(phone) and not await is_logged_in(tablet)
    body = await call(phone, 'GET', '/user/info', id=1)
    assert body['code'] == 'not_authenticated'
    assert await is_logged_in(other)


async def test_reset_password(server, config, make_client):
    client, _ = await logged_in(make_client, 'heidi')
    code, out, err = await run_cli(cli_env(config), 'user', 'reset_password',
                                   '--username=heidi', '--password=another123')
    assert code == 0, err
    assert (await login(make_client(), 'heidi'))['code'] == 'fail'
    assert (await login(make_client(), 'heidi', 'another123'))['code'] == 'ok'
    if REDIS_URI:
        assert out.strip() == 'Password of heidi reset; 1 sessions ended.'
        assert not await is_logged_in(client)
    code, _, err = await run_cli(cli_env(config), 'user', 'reset_password',
                                 '--username=heidi', '--password=weak')
    assert code == 1 and err.startswith('error: password: ')


@requires_redis
async def test_reset_password_from_the_cli_ends_sessions_on_every_server(server, config,
                                                                         make_client):
    client, _ = await logged_in(make_client, 'ivan')
    code, _, err = await run_cli(cli_env(config), 'user', 'reset_password',
                                 '--username=ivan', '--password=another123')
    assert code == 0, err
    assert not await is_logged_in(client)


def write(path, data=b'x' * 10, age: float = 7200) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    then = time.time() - age
    os.utime(path, (then, then))


async def test_files_prune(server, config, container):
    uploads = os.path.join(config['DATA_PATH'], config['UPLOAD_DIR'])
    thumbs = os.path.join(config['DATA_PATH'], config['THUMB_DIR'])
    from pathlib import Path
    uploads, thumbs = Path(uploads), Path(thumbs)
    kept = await create_file(container, 1, path='p')
    write(uploads / kept['bucket'] / kept['path'])
    write(thumbs / 'thumb-small' / kept['bucket'] / (kept['path'] + '.jpg'))
    write(uploads / 'b' / 'orphan.jpg')                       # no row, old
    write(uploads / 'b' / 'fresh.jpg', age=10)               # no row, an upload on its way
    write(thumbs / 'thumb-small' / 'b' / 'deleted.jpg.jpg')  # its file is gone
    write(uploads / 'b' / '.partial.tmp')                     # a write in progress
    env = cli_env(config)

    code, out, err = await run_cli(env, 'files', 'prune', '--dry-run')
    assert code == 0, err
    assert out.strip().splitlines() == [
        'Would remove upload b/orphan.jpg',
        'Would remove thumbnail thumb-small/b/deleted.jpg.jpg',
        'Would remove 1 uploads and 1 thumbnails (20 bytes).']
    assert (uploads / 'b' / 'orphan.jpg').exists()
    assert 'files prune: 5/5 files (100%)' in err  # plain progress lines in a pipe

    code, out, err = await run_cli(env, 'files', 'prune')
    assert code == 0, err
    assert out.strip().splitlines()[-1] == 'Removed 1 uploads and 1 thumbnails (20 bytes).'
    assert not (uploads / 'b' / 'orphan.jpg').exists()
    assert not (thumbs / 'thumb-small' / 'b' / 'deleted.jpg.jpg').exists()
    for path in (uploads / kept['bucket'] / kept['path'], uploads / 'b' / 'fresh.jpg',
                 uploads / 'b' / '.partial.tmp',
                 thumbs / 'thumb-small' / kept['bucket'] / (kept['path'] + '.jpg')):
        assert path.exists(), path
    code, out, _ = await run_cli(env, 'files', 'prune', '--min_age=0')
    assert out.strip().splitlines() == ['Removed upload b/fresh.jpg',
                                        'Removed 1 uploads and 0 thumbnails (10 bytes).']
