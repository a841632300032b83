import logging

log = logging.getLogger(__name__)


class LogCodeSender:
    """The built-in verify-code sender: writes the code to the log. A real SMS or
    email provider implements the same `send`."""

    async def send(self, channel: str, target: str, code: str) -> None:
        log.info('verify code for %s %s: %s', channel, target, code)
