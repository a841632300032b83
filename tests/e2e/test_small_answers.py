"""The small things: each odd request gets the right status, an envelope naming the
problem, and one log line at the right level (a client hang-up is not an ERROR)."""
import logging
from types import SimpleNamespace

import pytest
from sanic.exceptions import RequestCancelled

from weiguan.web.envelope import EnvelopeErrorHandler

from tests.support.raw_http import envelope, open_raw, read_response
from tests.support import register


async def exchange(server, data: bytes):
    reader, writer = await open_raw(server.url)
    writer.write(data)
    await writer.drain()
    try:
        return await read_response(reader)
    finally:
        writer.close()


async def test_connect_is_a_400_naming_the_problem(server, caplog):
    status, _, body = await exchange(
        server, b'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')
    assert status == 400 and 'not a proxy' in envelope(body)['message']
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_20_kb_header_is_431_and_a_100_kb_query_is_414(server):
    status, _, body = await exchange(server, b'GET /health HTTP/1.1\r\nHost: t\r\nX-Big: '
                                     + b'a' * 20000 + b'\r\n\r\n')
    assert status == 431 and 'headers are too large' in envelope(body)['message']
    status, _, body = await exchange(server, b'GET /health?q=' + b'a' * 100000
                                     + b' HTTP/1.1\r\nHost: t\r\n\r\n')
    assert status == 414 and 'too long' in envelope(body)['message']


def multipart_request(cookie: str, content_type: bytes, body: bytes) -> bytes:
    return (b'POST /storage/upload HTTP/1.1\r\nHost: t\r\nCookie: session=%s\r\n'
            b'Content-Type: %s\r\nContent-Length: %d\r\n\r\n'
            % (cookie.encode(), content_type, len(body)) + body)


@pytest.mark.parametrize('content_type, body, named', [
    (b'multipart/form-data', b'--x\r\nContent-Disposition: form-data; name="files"; '
     b'filename="a.jpg"\r\n\r\nabc\r\n--x--\r\n', 'boundary'),
    (b'multipart/form-data; boundary=x', b'--x\r\nContent-Disposition: form-data; '
     b'name="bucket"\r\n\r\n\xff\xfe\r\n--x--\r\n', 'not UTF-8'),
])
async def test_a_bad_multipart_body_is_a_400_naming_the_problem(server, client, caplog,
                                                                 content_type, body, named):
    await register(client)
    status, _, answer = await exchange(server, multipart_request(
        client.cookies['session'], content_type, body))
    assert status == 400 and named in envelope(answer)['message']
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize('error', [RequestCancelled(), ConnectionResetError()])
def test_a_client_hang_up_is_logged_below_error(caplog, error):
    caplog.set_level(logging.INFO)
    request = SimpleNamespace(method='POST', path='/post/publish')
    EnvelopeErrorHandler().default(request, error)
    assert caplog.records and all(r.levelno < logging.ERROR for r in caplog.records)
