"""Limits that hold under concurrency: a login attempt and a verify-code guess are
counted BEFORE the check, so no burst gets more checks than the limit. On the
service with the real counter over the store of the pass (MemoryStore, or Redis in
the second pass), and end to end."""
import asyncio

import pytest

from weiguan.dependencies.kv import MemoryStore, RedisStore, create_redis
from weiguan.dependencies.rate_counter import FixedWindowCounter
from weiguan.entities.enums import VerifyChannel, VerifyCodeType
from weiguan.entities.errors import Fail, TooManyRequests
from weiguan.services.accounts import AccountService
from weiguan.services.file_links import FileLinks
from weiguan.services.hydration import UserHydrator
from weiguan.services.rate_limits import Limit, RateLimiter
from weiguan.services.verify_codes import VerifyCodeService

from tests.support.servers import REDIS_URI, requires_redis
from tests.support.fakes import FakeFiles, FakeFollowRepo, FakeUsers
from tests.support.fakes_accounts import FakeCodeSender, FakeHasher
from tests.support import PASSWORD, call, register

NONE = Limit(0, 60)


class SlowHasher(FakeHasher):
    """Takes its time like argon2 in a thread, and counts the checks it made."""

    def __init__(self):
        self.checks = 0

    async def verify(self, password_hash, password):
        self.checks += 1
        await asyncio.sleep(0.01)
        return await super().verify(password_hash, password)


class YieldingStore(MemoryStore):
    """MemoryStore that gives the loop away in every call, as a network store does."""

    async def get(self, key):
        await asyncio.sleep(0)
        return await super().get(key)

    async def incr(self, key, ttl):
        await asyncio.sleep(0)
        return await super().incr(key, ttl)


@pytest.fixture(params=['memory', pytest.param('redis', marks=requires_redis)])
async def store(request):
    if request.param == 'memory':
        yield YieldingStore()
        return
    client = create_redis(REDIS_URI)
    await client.flushdb()
    yield RedisStore(client)
    await client.flushdb()
    await client.aclose()


async def accounts(store, **limits):
    rules = dict(login_per_ip=NONE, login_per_account=NONE, register_per_ip=NONE,
                 verify_code_per_ip=NONE, upload_per_user=NONE)
    rules.update(limits)
    users, hasher = FakeUsers(), SlowHasher()
    service = AccountService(users, FakeFiles(), hasher, verify_codes=None,
                             hydrator=UserHydrator(users, FakeFiles(), FakeFollowRepo(users),
                                                   FileLinks('http://x/files')),
                             limits=RateLimiter(FixedWindowCounter(store), **rules))
    await service.register('alice', PASSWORD)
    return service, hasher


async def burst(service, ips):
    results = await asyncio.gather(
        *(service.login('wrong-pass1', username='alice', client_ip=ip) for ip in ips),
        return_exceptions=True)
    assert all(isinstance(r, (Fail, TooManyRequests)) for r in results), results
    return sum(isinstance(r, Fail) for r in results)


async def test_a_burst_from_one_ip_gets_no_more_password_checks_than_the_limit(store):
    service, hasher = await accounts(store, login_per_ip=Limit(10, 300))
    assert await burst(service, ['6.6.6.6'] * 60) == 10
    assert hasher.checks == 10


async def test_a_burst_on_one_account_from_many_ips_stops_at_the_account_limit(store):
    service, hasher = await accounts(store, login_per_ip=Limit(10, 300),
                                     login_per_account=Limit(20, 300))
    ips = [f'10.0.0.{i % 5}' for i in range(100)]
    assert await burst(service, ips) == 20
    assert hasher.checks == 20


async def test_a_right_password_gives_its_reservation_back(store):
    service, hasher = await accounts(store, login_per_ip=Limit(3, 300))
    for _ in range(5):
        assert await service.login(PASSWORD, username='alice', client_ip='1.1.1.1')
    assert await burst(service, ['1.1.1.1'] * 5) == 3  # the successes cost nothing


async def test_an_ip_refused_leaves_the_account_count_untouched(store):
    service, _ = await accounts(store, login_per_ip=Limit(2, 300),
                                login_per_account=Limit(5, 300))
    assert await burst(service, ['6.6.6.6'] * 30) == 2
    # the 28 refused attempts did not count against the owner's account
    assert await burst(service, ['7.7.7.7'] * 3) == 2
    assert await burst(service, ['8.8.8.8'] * 3) == 1


async def test_a_burst_of_guesses_compares_at_most_max_tries(store):
    sender = FakeCodeSender()
    codes = VerifyCodeService(store, sender, ttl=300, resend_interval=60, max_tries=5,
                              echo=True)
    args = (VerifyCodeType.MODIFY, VerifyChannel.MOBILE, '13800000000')
    right = await codes.send(*args)
    wrong = [f'{(int(right) + i) % 10**6:06d}' for i in range(1, 100)]
    results = await asyncio.gather(*(codes.check(*args, guess) for guess in wrong + [right]))
    assert not any(results)  # the right code came after the five tries were spent
    assert not await codes.check(*args, right)  # and the code is void


# --- end to end, on the backends of the pass --------------------------------------

@pytest.fixture
def config(tmp_path):
    from tests.support.servers import test_config
    return test_config(tmp_path, RATE_LOGIN_FAILURES_PER_IP=10,
                       RATE_LOGIN_FAILURES_PER_ACCOUNT=20)


@pytest.mark.usefixtures('fast_passwords')
async def test_concurrent_wrong_logins_over_http_get_the_limit_of_checks(server, make_client):
    await register(make_client(), 'burstuser')
    client = make_client()
    answers = await asyncio.gather(*(call(client, 'POST', '/account/login',
                                          username='burstuser', password='wrong-pass1')
                                     for _ in range(40)))
    codes = [a['code'] for a in answers]
    assert codes.count('fail') == 10, codes
    assert codes.count('too_many_requests') == 30
