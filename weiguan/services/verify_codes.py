import secrets

from ..entities import messages
from .ports import CodeSender, KeyValueStore
from ..entities.enums import VerifyChannel, VerifyCodeType
from ..entities.errors import Fail, TooManyRequests, Unavailable


class VerifyCodeService:
    """6-digit codes bound to (type, channel, target): single use, with a TTL, void
    after `max_tries` wrong guesses, at most one send per `resend_interval`."""

    def __init__(self, store: KeyValueStore, sender: CodeSender, ttl: int,
                 resend_interval: int, max_tries: int, echo: bool):
        self.store = store
        self.sender = sender
        self.ttl = ttl
        self.resend_interval = resend_interval
        self.max_tries = max_tries
        self.echo = echo

    @staticmethod
    def _key(kind: str, *parts: str) -> str:
        return 'vc:' + kind + ':' + ':'.join(parts)

    async def send(self, type: VerifyCodeType, channel: VerifyChannel,
                   target: str) -> str | None:
        """Send a fresh code; return it when echo is on, else None. A channel with
        no sender is refused (Fail); a delivery that fails (Unavailable) leaves no
        code and does not count as a send for the resend interval."""
        if not self.sender.delivers(channel.value):
            raise Fail(messages.VERIFY_CODE_NO_CHANNEL.format(channel=channel.value))
        gate = self._key('sent', channel.value, target)
        if not await self.store.set_if_absent(gate, '1', self.resend_interval):
            wait = await self.store.ttl(gate) or self.resend_interval
            raise TooManyRequests(wait, messages.VERIFY_CODE_TOO_SOON.format(seconds=wait),
                                  limit='verify_code:target')
        code = f'{secrets.randbelow(10**6):06d}'
        text = messages.VERIFY_CODE_TEXT.format(code=code, minutes=max(1, self.ttl // 60))
        key = self._key('code', type.value, channel.value, target)
        try:
            await self.sender.send(channel.value, target, code, text)
            await self.store.set(key, code, self.ttl)  # only a delivered code is usable
        except Unavailable:
            await self.store.delete(gate)
            raise
        await self.store.delete(self._key('tries', type.value, channel.value, target))
        return code if self.echo else None

    async def check(self, type: VerifyCodeType, channel: VerifyChannel, target: str,
                    code: str | None) -> bool:
        """True once for the right code; the code is then spent. Each check takes
        one of the code's tries (an atomic increment) BEFORE it is compared, so of
        any number of concurrent guesses at most `max_tries` are compared."""
        if not code:
            return False
        key = self._key('code', type.value, channel.value, target)
        tries_key = self._key('tries', type.value, channel.value, target)
        tries = await self.store.incr(tries_key, self.ttl)
        if tries > self.max_tries:
            await self.store.delete(key, tries_key)
            return False
        expected = await self.store.get(key)
        if expected is None:
            return False
        if secrets.compare_digest(expected, code):
            return bool(await self.store.delete(key) == 1)  # of two racing checks one wins
        if tries >= self.max_tries:
            await self.store.delete(key, tries_key)
        return False
