"""AccountService on in-memory fakes: the rules, without a database."""
import pytest

from weiguan.dependencies.kv import MemoryStore
from weiguan.entities import messages
from weiguan.entities.enums import VerifyChannel, VerifyCodeType
from weiguan.entities.errors import Duplicate, Fail
from weiguan.services.accounts import AccountService
from weiguan.services.file_links import FileLinks
from weiguan.services.hydration import UserHydrator
from weiguan.services.verify_codes import VerifyCodeService

from tests.support.fakes import FakeFiles, FakeFollowRepo, FakeUsers
from tests.support.fakes_accounts import FakeClock, FakeCodeSender, FakeHasher

PASSWORD = 'secret123'
MODIFY = VerifyCodeType.MODIFY


class World:
    def __init__(self):
        self.files = FakeFiles()
        self.users = FakeUsers(self.files)
        self.sender = FakeCodeSender()
        self.clock = FakeClock()
        self.codes = VerifyCodeService(MemoryStore(clock=self.clock), self.sender, ttl=300,
                                       resend_interval=60, max_tries=5, echo=False)
        hydrator = UserHydrator(self.users, self.files, FakeFollowRepo(self.users),
                                FileLinks('http://files.test/f'))
        self.service = AccountService(self.users, self.files, FakeHasher(), self.codes,
                                      hydrator)

    async def code_for(self, channel: VerifyChannel, target: str) -> str:
        await self.service.send_code(MODIFY, channel, target)
        return self.sender.last_code(target)


@pytest.fixture
def world():
    return World()


async def test_register_stores_a_hash_and_returns_the_id(world):
    user_id = await world.service.register('alice', PASSWORD)
    row = world.users.rows[user_id]
    assert row['username'] == 'alice'
    assert row['password'] == 'hashed:' + PASSWORD


async def test_register_duplicate_username_says_which_field(world):
    await world.service.register('alice', PASSWORD)
    with pytest.raises(Duplicate) as caught:
        await world.service.register('alice', 'other1234')
    assert caught.value.message == messages.USERNAME_TAKEN
    assert len(world.users.rows) == 1


async def test_login_by_username_or_mobile(world):
    user_id = await world.service.register('alice', PASSWORD)
    world.users.rows[user_id]['mobile'] = '13800000000'
    assert (await world.service.login(PASSWORD, username='alice')).user_id == user_id
    assert (await world.service.login(PASSWORD, mobile='13800000000')).user_id == user_id


async def test_wrong_password_and_unknown_user_fail_alike(world):
    await world.service.register('alice', PASSWORD)
    with pytest.raises(Fail) as wrong_password:
        await world.service.login('wrong1234', username='alice')
    with pytest.raises(Fail) as unknown_user:
        await world.service.login(PASSWORD, username='nobody')
    with pytest.raises(Fail) as unknown_mobile:
        await world.service.login(PASSWORD, mobile='13900000000')
    assert wrong_password.value.message == unknown_user.value.message \
        == unknown_mobile.value.message == messages.BAD_CREDENTIALS


async def test_profile_is_the_owner_view_without_password(world):
    user_id = await world.service.register('alice', PASSWORD)
    world.users.rows[user_id]['mobile'] = '13800000000'
    profile = await world.service.profile(user_id)
    assert profile['id'] == user_id and profile['username'] == 'alice'
    assert profile['mobile'] == '13800000000'
    assert 'password' not in profile
    assert profile['stat']['post_count'] == 0
    assert profile['avatar'] is None
    assert await world.service.profile(None) is None
    assert await world.service.profile(999) is None


async def test_modify_username_intro_and_password(world):
    user_id = await world.service.register('alice', PASSWORD)
    profile = await world.service.modify(user_id, username='alice2', intro='hello',
                                         password='newpass99')
    assert profile['username'] == 'alice2' and profile['intro'] == 'hello'
    assert world.users.rows[user_id]['password'] == 'hashed:newpass99'
    assert (await world.service.login('newpass99', username='alice2')).user_id == user_id
    with pytest.raises(Fail):
        await world.service.login(PASSWORD, username='alice2')


async def test_modify_with_nothing_changes_nothing(world):
    user_id = await world.service.register('alice', PASSWORD)
    before = dict(world.users.rows[user_id])
    profile = await world.service.modify(user_id)
    assert profile['username'] == 'alice'
    assert world.users.rows[user_id] == before


async def test_modify_duplicate_username_says_which_field(world):
    await world.service.register('alice', PASSWORD)
    bob = await world.service.register('bob', PASSWORD)
    with pytest.raises(Duplicate) as caught:
        await world.service.modify(bob, username='alice')
    assert caught.value.message == messages.USERNAME_TAKEN
    assert world.users.rows[bob]['username'] == 'bob'


@pytest.mark.parametrize('channel, target', [(VerifyChannel.MOBILE, '13800000000'),
                                             (VerifyChannel.EMAIL, 'a@example.com')])
async def test_modify_contact_needs_a_modify_code_for_that_target(world, channel, target):
    user_id = await world.service.register('alice', PASSWORD)
    field = channel.value
    with pytest.raises(Fail) as missing:
        await world.service.modify(user_id, **{field: target})
    assert missing.value.message == messages.VERIFY_CODE_NEEDED.format(field=field)

    code = await world.code_for(channel, target)
    wrong = f'{(int(code) + 1) % 10**6:06d}'
    with pytest.raises(Fail) as wrong_code:
        await world.service.modify(user_id, code=wrong, **{field: target})
    assert wrong_code.value.message == messages.VERIFY_CODE_WRONG
    assert world.users.rows[user_id][field] is None

    profile = await world.service.modify(user_id, code=code, **{field: target})
    assert profile[field] == target
    # single use: the same code cannot change it again
    with pytest.raises(Fail):
        await world.service.modify(user_id, code=code, **{field: target})


async def test_modify_mobile_with_a_code_of_another_target_fails(world):
    user_id = await world.service.register('alice', PASSWORD)
    code = await world.code_for(VerifyChannel.MOBILE, '13800000000')
    with pytest.raises(Fail):
        await world.service.modify(user_id, code=code, mobile='13800000001')
    assert world.users.rows[user_id]['mobile'] is None


async def test_modify_mobile_with_a_register_code_fails(world):
    user_id = await world.service.register('alice', PASSWORD)
    await world.service.send_code(VerifyCodeType.REGISTER, VerifyChannel.MOBILE,
                                  '13800000000')
    code = world.sender.last_code('13800000000')
    with pytest.raises(Fail):
        await world.service.modify(user_id, code=code, mobile='13800000000')


async def test_modify_duplicate_mobile(world):
    alice = await world.service.register('alice', PASSWORD)
    bob = await world.service.register('bob', PASSWORD)
    code = await world.code_for(VerifyChannel.MOBILE, '13800000000')
    await world.service.modify(alice, code=code, mobile='13800000000')
    world.clock.advance(60)
    code = await world.code_for(VerifyChannel.MOBILE, '13800000000')
    with pytest.raises(Duplicate) as caught:
        await world.service.modify(bob, code=code, mobile='13800000000')
    assert caught.value.message == messages.MOBILE_TAKEN


async def test_avatar_must_be_own_image(world):
    alice = await world.service.register('alice', PASSWORD)
    bob = await world.service.register('bob', PASSWORD)
    image = await world.files.create(alice, 'local', 'avatars', 'a.png',
                                     {'name': 'a.png', 'size': 10, 'type': 'image/png'})
    text = await world.files.create(alice, 'local', 'docs', 'a.txt',
                                    {'name': 'a.txt', 'size': 10, 'type': 'text/plain'})
    bobs = await world.files.create(bob, 'local', 'avatars', 'b.png',
                                    {'name': 'b.png', 'size': 10, 'type': 'image/png'})
    for file_id in (text['id'], bobs['id'], 12345):
        with pytest.raises(Fail) as caught:
            await world.service.modify(alice, avatar_id=file_id)
        assert caught.value.message == messages.AVATAR_NOT_OWN
    assert world.users.rows[alice]['avatar_id'] is None

    profile = await world.service.modify(alice, avatar_id=image['id'])
    assert profile['avatar_id'] == image['id']
    assert profile['avatar']['url'] == 'http://files.test/f/avatars/a.png'
    assert profile['avatar']['thumbs']['small'].endswith('?process=thumb-small')
    # null removes the avatar
    profile = await world.service.modify(alice, avatar_id=None)
    assert profile['avatar_id'] is None and profile['avatar'] is None


async def test_send_code_goes_through_the_service(world):
    assert await world.service.send_code(MODIFY, VerifyChannel.EMAIL, 'x@example.com') \
        is None  # echo off in this world
    assert world.sender.sent[0][:2] == ('email', 'x@example.com')


class SessionWorld(World):
    """The service with a real session store (in memory) behind it."""

    def __init__(self):
        super().__init__()
        from weiguan.dependencies.sessions import SessionStore
        self.sessions = SessionStore(MemoryStore(clock=self.clock), expiry=3600,
                                     idle_expiry=3600, refresh_interval=60,
                                     clock=self.clock)
        self.service.sessions = self.sessions

    async def log_in(self, user_id: int, sid: str) -> None:
        await self.sessions.save(sid, {'user_id': user_id})
        await self.sessions.track(user_id, sid)


async def test_a_disabled_user_cannot_log_in_and_their_sessions_end():
    world = SessionWorld()
    user_id = await world.service.register('alice', PASSWORD)
    other = await world.service.register('bob', PASSWORD)
    for sid in ('phone-session-0000000001', 'tablet-session-000000001'):
        await world.log_in(user_id, sid)
    await world.log_in(other, 'bob-session-0000000000001')

    assert await world.service.set_disabled('alice', True) == 2
    assert await world.sessions.load('phone-session-0000000001') is None
    assert await world.sessions.load('tablet-session-000000001') is None
    assert await world.sessions.load('bob-session-0000000000001') is not None
    with pytest.raises(Fail) as refused:
        await world.service.login(PASSWORD, username='alice')
    assert refused.value.message == messages.ACCOUNT_DISABLED
    with pytest.raises(Fail) as wrong:  # a wrong password does not tell it is disabled
        await world.service.login('wrong1234', username='alice')
    assert wrong.value.message == messages.BAD_CREDENTIALS

    assert await world.service.set_disabled('alice', False) == 0
    assert (await world.service.login(PASSWORD, username='alice')).user_id == user_id


async def test_reset_password_ends_every_session():
    world = SessionWorld()
    user_id = await world.service.register('alice', PASSWORD)
    await world.log_in(user_id, 'phone-session-0000000001')
    assert await world.service.reset_password('alice', 'another123') == 1
    assert await world.sessions.load('phone-session-0000000001') is None
    assert (await world.service.login('another123', username='alice')).user_id == user_id
    with pytest.raises(Fail):
        await world.service.login(PASSWORD, username='alice')


async def test_operator_actions_on_an_unknown_user_are_not_found(world):
    from weiguan.entities.errors import NotFound
    for action in (world.service.reset_password('ghost', PASSWORD),
                   world.service.set_disabled('ghost', True)):
        with pytest.raises(NotFound):
            await action


async def test_create_with_contacts_and_duplicates_named(world):
    user = await world.service.create('alice', PASSWORD, mobile='13800000000',
                                      email='a@example.com')
    assert (user['mobile'], user['email']) == ('13800000000', 'a@example.com')
    assert (await world.service.login(PASSWORD, mobile='13800000000')).user_id == user['id']
    with pytest.raises(Duplicate) as caught:
        await world.service.create('bob', PASSWORD, email='a@example.com')
    assert caught.value.message == messages.EMAIL_TAKEN
