"""VerifyCodeService on the in-process store with a clock the test moves."""
import re

import pytest

from weiguan.dependencies.kv import MemoryStore
from weiguan.entities.enums import VerifyChannel, VerifyCodeType
from weiguan.entities.errors import TooManyRequests
from weiguan.services.verify_codes import VerifyCodeService

from tests.support.fakes_accounts import FakeClock, FakeCodeSender

MOBILE = VerifyChannel.MOBILE
EMAIL = VerifyChannel.EMAIL
MODIFY = VerifyCodeType.MODIFY
REGISTER = VerifyCodeType.REGISTER


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sender():
    return FakeCodeSender()


@pytest.fixture
def codes(clock, sender):
    return VerifyCodeService(MemoryStore(clock=clock), sender, ttl=300, resend_interval=60,
                             max_tries=5, echo=True)


async def test_sends_six_digits_through_the_sender_and_echoes(codes, sender):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    assert re.fullmatch(r'[0-9]{6}', code)
    assert sender.sent == [('mobile', '13800000000', code)]


async def test_codes_vary(codes, clock):
    seen = set()
    for i in range(20):
        seen.add(await codes.send(MODIFY, MOBILE, f'1380000{i:04d}'))
    assert len(seen) > 1


async def test_echo_off_returns_none_but_still_sends(clock, sender):
    quiet = VerifyCodeService(MemoryStore(clock=clock), sender, ttl=300,
                              resend_interval=60, max_tries=5, echo=False)
    assert await quiet.send(MODIFY, EMAIL, 'a@example.com') is None
    channel, target, code = sender.sent[0]
    assert (channel, target) == ('email', 'a@example.com')
    assert await quiet.check(MODIFY, EMAIL, 'a@example.com', code) is True


async def test_right_code_works_once(codes):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is True
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is False


async def test_code_expires_after_ttl(codes, clock):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    clock.advance(299)
    other = await codes.send(MODIFY, MOBILE, '13900000000')
    clock.advance(2)
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is False
    assert await codes.check(MODIFY, MOBILE, '13900000000', other) is True


async def test_code_is_bound_to_type_channel_and_target(codes):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    assert await codes.check(REGISTER, MOBILE, '13800000000', code) is False
    assert await codes.check(MODIFY, EMAIL, '13800000000', code) is False
    assert await codes.check(MODIFY, MOBILE, '13800000001', code) is False
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is True


async def test_empty_or_missing_code_fails(codes):
    await codes.send(MODIFY, MOBILE, '13800000000')
    assert await codes.check(MODIFY, MOBILE, '13800000000', None) is False
    assert await codes.check(MODIFY, MOBILE, '13800000000', '') is False
    assert await codes.check(MODIFY, MOBILE, '13800000099', None) is False


def _wrong(code: str) -> str:
    return f'{(int(code) + 1) % 10**6:06d}'


async def test_voided_after_five_wrong_tries(codes):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    for _ in range(5):
        assert await codes.check(MODIFY, MOBILE, '13800000000', _wrong(code)) is False
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is False


async def test_four_wrong_tries_still_leave_the_code_usable(codes):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    for _ in range(4):
        assert await codes.check(MODIFY, MOBILE, '13800000000', _wrong(code)) is False
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is True


async def test_a_new_code_resets_the_wrong_tries(codes, clock):
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    for _ in range(4):
        await codes.check(MODIFY, MOBILE, '13800000000', _wrong(code))
    clock.advance(60)
    code = await codes.send(MODIFY, MOBILE, '13800000000')
    await codes.check(MODIFY, MOBILE, '13800000000', _wrong(code))
    assert await codes.check(MODIFY, MOBILE, '13800000000', code) is True


async def test_one_send_per_interval_per_target(codes, clock, sender):
    first = await codes.send(MODIFY, MOBILE, '13800000000')
    clock.advance(15)
    with pytest.raises(TooManyRequests) as caught:
        await codes.send(REGISTER, MOBILE, '13800000000')  # any type: the target counts
    assert caught.value.retry_after == 45
    assert '45' in caught.value.message
    assert len(sender.sent) == 1
    # the refused send did not replace the code
    assert await codes.check(MODIFY, MOBILE, '13800000000', first) is True
    # another target is not limited
    assert await codes.send(MODIFY, MOBILE, '13800000001')
    clock.advance(45)
    assert await codes.send(MODIFY, MOBILE, '13800000000')
    assert len(sender.sent) == 3


async def test_a_resend_replaces_the_old_code(codes, clock, monkeypatch):
    drawn = iter([111111, 222222])
    monkeypatch.setattr('weiguan.services.verify_codes.secrets.randbelow',
                        lambda _: next(drawn))
    assert await codes.send(MODIFY, EMAIL, 'a@example.com') == '111111'
    clock.advance(60)
    assert await codes.send(MODIFY, EMAIL, 'a@example.com') == '222222'
    assert await codes.check(MODIFY, EMAIL, 'a@example.com', '111111') is False
    assert await codes.check(MODIFY, EMAIL, 'a@example.com', '222222') is True


async def test_a_failed_delivery_leaves_no_code_and_no_resend_wait(codes, sender):
    from weiguan.entities.errors import Unavailable
    sender.failing.add('mobile')
    with pytest.raises(Unavailable):
        await codes.send(MODIFY, MOBILE, '13800000000')
    assert sender.sent == []
    sender.failing.clear()
    code = await codes.send(MODIFY, MOBILE, '13800000000')  # at once: no TooManyRequests
    assert await codes.check(MODIFY, MOBILE, '13800000000', code)


async def test_a_channel_without_sender_is_refused_before_anything(clock):
    from weiguan.entities import messages
    from weiguan.entities.errors import Fail
    sender = FakeCodeSender(channels=('email',))
    codes = VerifyCodeService(MemoryStore(clock=clock), sender, ttl=300,
                              resend_interval=60, max_tries=5, echo=False)
    with pytest.raises(Fail) as refused:
        await codes.send(MODIFY, MOBILE, '13800000000')
    assert refused.value.message == messages.VERIFY_CODE_NO_CHANNEL.format(channel='mobile')
    await codes.send(MODIFY, EMAIL, 'a@example.com')
    assert 'valid for 5 minutes' in sender.texts[-1] and sender.sent[-1][2] in sender.texts[-1]
