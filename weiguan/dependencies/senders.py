"""Verify-code delivery: email by SMTP (aiosmtplib), SMS by an HTTP webhook (any SMS
provider behind a small relay), and the development sender that writes the code to
the log. A delivery that fails raises Unavailable (the service then leaves no code
behind); the code itself never appears in a log record, except the log sender's."""
import logging
from email.message import EmailMessage
from typing import Callable

import aiosmtplib
import httpx

from ..entities import messages
from ..entities.errors import Unavailable

log = logging.getLogger(__name__)


def _failed(channel: str, error: Exception) -> Unavailable:
    log.warning('verify code delivery by %s failed: %s', channel, error)
    return Unavailable(messages.VERIFY_CODE_NOT_DELIVERED)


class LogCodeSender:
    """Development only (VERIFY_CODE_ECHO on): the code goes to the log."""

    async def send(self, target: str, code: str, text: str) -> None:
        log.info('verify code for %s: %s', target, code)


class SmtpCodeSender:
    def __init__(self, host: str, port: int, sender: str, user: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = 10):
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    async def send(self, target: str, code: str, text: str) -> None:
        mail = EmailMessage()
        mail['From'] = self.sender
        mail['To'] = target
        mail['Subject'] = messages.VERIFY_MAIL_SUBJECT
        mail.set_content(text)
        try:
            await aiosmtplib.send(mail, hostname=self.host, port=self.port,
                                  username=self.user or None, password=self.password or None,
                                  start_tls=self.starttls, timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError) as error:
            raise _failed('email', error) from error


class WebhookSmsSender:
    """POST {mobile, code, text} as JSON; any 2xx answer is a delivery. Redirects are
    not followed (the code would go where the relay's owner did not say)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 10):
        headers = {'Authorization': f'Bearer {token}'} if token else {}
        self.url = url
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                        headers=headers)

    async def send(self, target: str, code: str, text: str) -> None:
        try:
            response = await self.client.post(self.url, json={'mobile': target, 'code': code,
                                                              'text': text})
        except httpx.HTTPError as error:
            raise _failed('sms', error) from error
        if not response.is_success:
            raise _failed('sms', RuntimeError(f'the webhook answered {response.status_code}'))

    async def close(self) -> None:
        await self.client.aclose()


class CodeSenders:
    """The sender of each channel ('mobile', 'email'); `fallback` (the log sender,
    with echo on) for a channel without one. Without either, the channel has none."""

    def __init__(self, email=None, mobile=None, fallback=None):
        self.by_channel = {'email': email or fallback, 'mobile': mobile or fallback}

    def delivers(self, channel: str) -> bool:
        return self.by_channel.get(channel) is not None

    async def send(self, channel: str, target: str, code: str, text: str) -> None:
        await self.by_channel[channel].send(target, code, text)

    async def close(self) -> None:
        for sender in set(self.by_channel.values()):
            if hasattr(sender, 'close'):
                await sender.close()


class CountedSender:
    """A sender that counts each code delivered, by channel (for the metrics)."""

    def __init__(self, sender: CodeSenders, count: Callable[[str], None]):
        self.sender = sender
        self.count = count

    def delivers(self, channel: str) -> bool:
        return self.sender.delivers(channel)

    async def send(self, channel: str, target: str, code: str, text: str) -> None:
        await self.sender.send(channel, target, code, text)
        self.count(channel)
