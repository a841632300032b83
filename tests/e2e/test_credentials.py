"""Sessions carry the user's credential version: a session from before a password
change (or a reset from the CLI, a disable: anything that calls
`end_sessions`) is dead on its next request, whenever its login finished."""
import asyncio

import pytest
from argon2 import PasswordHasher
from dependency_injector import providers

from weiguan.dependencies.passwords import Argon2Hasher
from weiguan.services.credentials import CredentialService, credential_version

from tests.support.fakes import FakeUsers
from tests.support import PASSWORD, call, provided, register

NEW_PASSWORD = 'newpass99'


class GatedHasher(Argon2Hasher):
    """Cheap argon2 whose checks wait at a gate the test opens: the logins have read
    the user row (old hash) and are "checking" while the password changes."""

    def __init__(self):
        super().__init__(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = 0

    async def verify(self, password_hash, password):
        self.waiting += 1
        await self.gate.wait()
        return await super().verify(password_hash, password)


@pytest.fixture
def hasher(container):
    gated = GatedHasher()
    container.hasher.override(providers.Object(gated))
    yield gated
    container.hasher.reset_override()


async def whoami(client):
    return (await call(client, 'GET', '/account/info'))['data']['user']


async def test_logins_racing_a_password_change_get_dead_sessions(hasher, server,
                                                                  make_client):
    owner = make_client()
    await register(owner, 'alice')
    racers = [make_client() for _ in range(10)]
    hasher.gate.clear()
    logins = [asyncio.create_task(call(c, 'POST', '/account/login', username='alice',
                                       password=PASSWORD)) for c in racers]
    while hasher.waiting < len(racers):
        await asyncio.sleep(0.01)
    changed = await call(owner, 'POST', '/account/modify', password=NEW_PASSWORD)
    assert changed['code'] == 'ok'
    hasher.gate.set()
    assert [(await login)['code'] for login in logins] == ['ok'] * len(racers)
    for racer in racers:  # they checked the old password: dead on their next request
        assert await whoami(racer) is None
    assert (await whoami(owner))['username'] == 'alice'  # the changer stays logged in
    fresh = make_client()
    assert (await call(fresh, 'POST', '/account/login', username='alice',
                       password=NEW_PASSWORD))['code'] == 'ok'
    assert (await whoami(fresh))['username'] == 'alice'


async def test_revoking_credentials_ends_every_session_on_its_next_request(server,
                                                                           make_client):
    """What a reset from the CLI (or a disable) does: change the row, then revoke."""
    phone, tablet = make_client(), make_client()
    user = await register(phone, 'alice')
    await call(tablet, 'POST', '/account/login', username='alice', password=PASSWORD)
    for client in (phone, tablet):  # sessions in use: the server knows their owner
        assert (await whoami(client))['username'] == 'alice'
    users, accounts, hasher = await provided(server.container, 'users', 'account_service',
                                             'hasher')
    await users.update(user['id'], password=await hasher.hash(NEW_PASSWORD))
    await accounts.end_sessions(user['id'])
    assert await whoami(phone) is None
    assert await whoami(tablet) is None


async def test_a_session_in_use_is_dead_once_its_credential_version_changes(server,
                                                                              make_client):
    """The session is still stored (nothing deleted it): only its version, read on
    each request beside the session itself, says it is stale."""
    phone = make_client()
    user = await register(phone, 'alice')
    assert (await whoami(phone))['username'] == 'alice'
    users, hasher, credentials = await provided(server.container, 'users', 'hasher',
                                                'credential_service')
    changed = await users.update(user['id'], password=await hasher.hash(NEW_PASSWORD))
    await credentials.publish(changed)
    assert await whoami(phone) is None
    assert await whoami(phone) is None  # and stays so: it was deleted


async def test_a_stale_cache_fill_never_overwrites_a_newer_version():
    from weiguan.dependencies.kv import MemoryStore
    users = FakeUsers()
    alice = await users.create('alice', 'old-hash')
    credentials = CredentialService(MemoryStore(), users)
    changed = await users.update(alice['id'], password='new-hash')
    await credentials.publish(changed)
    # a reader that had read the old row before the change, filling late
    assert not await credentials.store.set_if_absent(
        'credential:%d' % alice['id'], credential_version(alice), 60)
    current = await credentials.current(alice['id'])
    assert current == credential_version(changed)
    assert not await credentials.matches(current, credential_version(alice))


async def test_the_session_changing_the_password_survives_a_read_before_it_is_renewed(
        server, make_client):
    """Between the change's publish and the write of the changer's own session with
    the new version, a read of that session (its WebSocket's check, a second request
    on the same cookie) found it stale and deleted it: the user who changed the
    password was logged out. Here the change stops at that point, and both sessions
    are read."""
    owner, other = make_client(), make_client()
    user = await register(owner, 'alice')
    await call(other, 'POST', '/account/login', username='alice', password=PASSWORD)
    users, accounts, hasher = await provided(server.container, 'users', 'account_service',
                                             'hasher')
    sid = owner.cookies[server.app.ctx.config['SESSION_COOKIE_NAME']]
    changed = await users.update(user['id'], password=await hasher.hash(NEW_PASSWORD))
    await accounts.end_sessions(user['id'], keep=sid, user=changed)  # not renewed yet
    assert (await whoami(owner))['username'] == 'alice'
    assert await whoami(other) is None
