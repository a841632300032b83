"""Local stand-ins for the verify-code channels: an SMTP server (aiosmtpd) and an
HTTP receiver for the SMS webhook, both on 127.0.0.1 and on the test's loop."""
import asyncio
import email
import re

import orjson
from aiosmtpd.smtp import SMTP

CODE = re.compile(r'\b(\d{6})\b')


class SmtpSink:
    """Keeps every mail it is given; `fail` makes it refuse the next ones."""

    def __init__(self):
        self.mails: list[email.message.Message] = []
        self.fail = False
        self.port = 0
        self._server = None

    async def handle_DATA(self, server, session, envelope):
        if self.fail:
            return '451 try again later'
        self.mails.append(email.message_from_bytes(envelope.content))
        return '250 OK'

    async def start(self) -> 'SmtpSink':
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname='sink.test'), '127.0.0.1', 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def code_for(self, address: str) -> str:
        mail = next(m for m in reversed(self.mails) if m['To'] == address)
        return CODE.search(mail.get_payload(decode=True).decode()).group(1)


class WebhookReceiver:
    """A bare HTTP/1.1 endpoint: records each request (headers, JSON body) and answers
    `status` (with a Location header for a 3xx)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.status = 200
        self.port = 0
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        head = await reader.readuntil(b'\r\n\r\n')
        lines = head.decode().split('\r\n')
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (line.partition(':') for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get('content-length', 0)))
        self.calls.append({'request': lines[0], 'headers': headers,
                           'json': orjson.loads(body) if body else None})
        extra = f'Location: http://127.0.0.1:{self.port}/elsewhere\r\n' \
            if 300 <= self.status < 400 else ''
        writer.write(f'HTTP/1.1 {self.status} X\r\n{extra}Content-Length: 0\r\n'
                     'Connection: close\r\n\r\n'.encode())
        await writer.drain()
        writer.close()

    async def start(self) -> 'WebhookReceiver':
        self._server = await asyncio.start_server(self._serve, '127.0.0.1', 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}/sms'

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()
