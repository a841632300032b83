"""The rate limits as rules: RateLimiter on the real counter over MemoryStore with a
clock moved by hand, and AccountService / StorageService using it on fakes."""
import pytest

from weiguan.dependencies.kv import MemoryStore
from weiguan.dependencies.rate_counter import FixedWindowCounter
from weiguan.entities import messages
from weiguan.entities.enums import VerifyChannel, VerifyCodeType
from weiguan.entities.errors import Fail, InvalidParam, TooManyRequests
from weiguan.services.accounts import AccountService
from weiguan.services.file_links import FileLinks
from weiguan.services.hydration import UserHydrator
from weiguan.services.rate_limits import Limit, RateLimiter, ip_subject
from weiguan.services.storage import StorageService
from weiguan.services.verify_codes import VerifyCodeService

from tests.support.fakes import FakeFiles, FakeFollowRepo, FakeUsers
from tests.support.fakes_accounts import FakeClock, FakeCodeSender, FakeHasher

PASSWORD = 'secret123'
NONE = Limit(0, 60)


def limiter(clock, **limits) -> RateLimiter:
    rules = dict(login_per_ip=NONE, login_per_account=NONE, register_per_ip=NONE,
                 verify_code_per_ip=NONE, upload_per_user=NONE)
    rules.update(limits)
    return RateLimiter(FixedWindowCounter(MemoryStore(clock=clock)), **rules)


@pytest.fixture
def clock():
    return FakeClock()


# --- the counter and the limiter ---------------------------------------------------

async def test_counter_counts_in_fixed_windows(clock):
    counter = FixedWindowCounter(MemoryStore(clock=clock))
    assert [await counter.hit('k', 60) for _ in range(3)] == [1, 2, 3]
    assert await counter.counts('k', 'other') == [3, 0]
    clock.advance(40)
    assert await counter.resets_in('k') == 20  # the window started at the first hit
    clock.advance(20)
    assert await counter.counts('k') == [0]
    assert await counter.hit('k', 60) == 1


async def test_a_limit_refuses_past_its_count_until_the_window_ends(clock):
    limits = limiter(clock, register_per_ip=Limit(2, 600))
    await limits.register('1.2.3.4')
    clock.advance(100)
    await limits.register('1.2.3.4')
    with pytest.raises(TooManyRequests) as refused:
        await limits.register('1.2.3.4')
    assert refused.value.retry_after == 500
    assert refused.value.message == messages.REGISTER_TOO_MANY.format(seconds=500)
    await limits.register('5.6.7.8')  # another IP has its own count
    clock.advance(500)
    await limits.register('1.2.3.4')  # a new window


async def test_zero_means_no_limit_and_no_ip_means_no_ip_limit(clock):
    limits = limiter(clock, verify_code_per_ip=Limit(1, 60))
    for _ in range(5):
        await limits.register('1.2.3.4')
        await limits.upload(7)
        await limits.send_verify_code(None)
    await limits.send_verify_code('1.2.3.4')
    with pytest.raises(TooManyRequests):
        await limits.send_verify_code('1.2.3.4')


def test_ipv6_clients_are_counted_per_64_network():
    assert ip_subject('2001:db8:1:2:aaaa::1') == ip_subject('2001:db8:1:2:bbbb::9') \
        == '2001:db8:1:2::/64'
    assert ip_subject('2001:db8:1:3::1') != ip_subject('2001:db8:1:2::1')
    assert ip_subject('::ffff:10.0.0.1') == '10.0.0.1'
    assert ip_subject('10.0.0.1') == '10.0.0.1'
    assert ip_subject('/run/weiguan.sock') == '/run/weiguan.sock'


async def test_uploads_are_counted_per_user(clock):
    limits = limiter(clock, upload_per_user=Limit(2, 3600))
    await limits.upload(1)
    await limits.upload(1)
    with pytest.raises(TooManyRequests) as refused:
        await limits.upload(1)
    assert refused.value.message == messages.UPLOAD_TOO_MANY.format(seconds=3600)
    await limits.upload(2)


# --- logins: failures only ----------------------------------------------------------

class Accounts:
    def __init__(self, clock, **limits):
        self.users = FakeUsers(FakeFiles())
        self.sender = FakeCodeSender()
        codes = VerifyCodeService(MemoryStore(clock=clock), self.sender, ttl=300,
                                  resend_interval=60, max_tries=5, echo=True)
        hydrator = UserHydrator(self.users, FakeFiles(), FakeFollowRepo(self.users),
                                FileLinks('http://files.test/f'))
        self.limits = limiter(clock, **limits)
        self.service = AccountService(self.users, FakeFiles(), FakeHasher(), codes,
                                      hydrator, limits=self.limits)

    async def fail(self, username: str, ip: str, times: int = 1) -> None:
        for _ in range(times):
            with pytest.raises(Fail):
                await self.service.login('wrong-pass1', username=username, client_ip=ip)


@pytest.fixture
async def accounts(clock):
    world = Accounts(clock, login_per_ip=Limit(3, 300), login_per_account=Limit(5, 300))
    for name in ('alice', 'bob'):
        await world.service.register(name, PASSWORD)
    return world


async def test_failed_logins_from_one_ip_are_limited(accounts, clock):
    await accounts.fail('alice', '6.6.6.6', times=3)
    with pytest.raises(TooManyRequests) as refused:  # even the right password
        await accounts.service.login(PASSWORD, username='alice', client_ip='6.6.6.6')
    assert refused.value.message == messages.LOGIN_TOO_MANY.format(seconds=300)
    with pytest.raises(TooManyRequests):  # and on any account
        await accounts.service.login(PASSWORD, username='bob', client_ip='6.6.6.6')
    # the owner, elsewhere, is not blocked by that IP's failures
    assert await accounts.service.login(PASSWORD, username='alice', client_ip='1.1.1.1')
    clock.advance(300)
    assert await accounts.service.login(PASSWORD, username='alice', client_ip='6.6.6.6')


async def test_successful_logins_are_not_counted(accounts):
    for _ in range(20):
        await accounts.service.login(PASSWORD, username='alice', client_ip='1.1.1.1')


async def test_failures_spread_over_ips_lock_the_account_only(accounts):
    for number in range(5):
        await accounts.fail('alice', f'10.0.0.{number}')
    with pytest.raises(TooManyRequests):
        await accounts.service.login(PASSWORD, username='alice', client_ip='10.0.1.1')
    # bob, from one of those IPs (1 failure each, under the IP limit), logs in
    assert await accounts.service.login(PASSWORD, username='bob', client_ip='10.0.0.1')


async def test_username_and_mobile_share_the_account_count(accounts, clock):
    alice = await accounts.users.find_by('username', 'alice')
    await accounts.users.update(alice['id'], mobile='13800000000')
    for number in range(5):
        with pytest.raises(Fail):
            await accounts.service.login('wrong-pass1', mobile='13800000000',
                                         client_ip=f'10.0.0.{number}')
    with pytest.raises(TooManyRequests):
        await accounts.service.login(PASSWORD, username='alice', client_ip='10.0.1.1')


async def test_unknown_accounts_are_counted_by_name_whatever_the_case(accounts):
    for number in range(5):
        await accounts.fail('Nobody' if number % 2 else 'nobody', f'10.0.0.{number}')
    with pytest.raises(TooManyRequests):
        await accounts.service.login(PASSWORD, username='NOBODY', client_ip='10.0.1.1')


async def test_registrations_and_codes_are_limited_per_ip(clock):
    world = Accounts(clock, register_per_ip=Limit(1, 3600),
                     verify_code_per_ip=Limit(2, 3600))
    await world.service.register('alice', PASSWORD, client_ip='1.1.1.1')
    with pytest.raises(TooManyRequests):
        await world.service.register('bob', PASSWORD, client_ip='1.1.1.1')
    assert await world.users.find_by('username', 'bob') is None
    await world.service.register('bob', PASSWORD, client_ip='2.2.2.2')

    send = world.service.send_code
    await send(VerifyCodeType.REGISTER, VerifyChannel.MOBILE, '13800000001', '1.1.1.1')
    await send(VerifyCodeType.REGISTER, VerifyChannel.EMAIL, 'a@b.test', '1.1.1.1')
    with pytest.raises(TooManyRequests):  # a third target, the same IP
        await send(VerifyCodeType.REGISTER, VerifyChannel.MOBILE, '13800000002', '1.1.1.1')
    assert world.sender.last_code('13800000002') is None


async def test_upload_limit_refuses_before_the_files_are_looked_at(clock):
    service = StorageService(files=None, disk=None, media=None, video=None, links=None,
                             max_size=100, max_number=1,
                             limits=limiter(clock, upload_per_user=Limit(1, 60)))
    with pytest.raises(InvalidParam):  # counted, then refused for its lack of files
        await service.upload(1, [])
    with pytest.raises(TooManyRequests):
        await service.upload(1, [])
    with pytest.raises(InvalidParam):  # another user
        await service.upload(2, [])
