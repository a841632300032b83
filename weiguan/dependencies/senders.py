import logging
from typing import Callable

log = logging.getLogger(__name__)


class LogCodeSender:
    """The built-in verify-code sender: writes the code to the log. A real SMS or
    email provider implements the same `send`."""

    async def send(self, channel: str, target: str, code: str) -> None:
        log.info('verify code for %s %s: %s', channel, target, code)


class CountedSender:
    """A sender that counts each code sent, by channel (for the metrics)."""

    def __init__(self, sender, count: Callable[[str], None]):
        self.sender = sender
        self.count = count

    async def send(self, channel: str, target: str, code: str) -> None:
        await self.sender.send(channel, target, code)
        self.count(channel)
