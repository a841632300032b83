"""Bodies bounded before they are read: per-route limits decided from the headers,
anonymous requests to login routes refused before their body, no 100 Continue for
a body that will be refused, 413 always an envelope; lengths checked before
values are validated."""

import asyncio

import pytest
from marshmallow import ValidationError

from weiguan.entities.inputs import ModifyRequest, PublishRequest, SendEmailCodeRequest

from tests.support.raw_http import closed, envelope, open_raw, read_response
from tests.support import register

MB = 1024 * 1024


async def send_head(server, method, path, headers: dict, cookie: str | None = None):
    reader, writer = await open_raw(server.url)
    lines = [f'{method} {path} HTTP/1.1', 'Host: test', *(f'{k}: {v}' for k, v in
                                                       headers.items())]
    if cookie:
        lines.append(f'Cookie: session={cookie}')
    writer.write(('\r\n'.join(lines) + '\r\n\r\n').encode())
    await writer.drain()
    return reader, writer


@pytest.mark.parametrize('path', ['/account/send/email/verify/code', '/account/login',
                                  '/post/publish'])
async def test_a_json_body_over_the_limit_is_a_413_envelope_before_it_is_read(server, path):
    reader, writer = await send_head(server, 'POST', path, {
        'Content-Type': 'application/json', 'Content-Length': str(90 * MB),
        'Expect': '100-continue'})
    status, _, body = await read_response(reader)  # nothing of the body was sent
    assert status == 413  # and no 100 Continue came first
    assert envelope(body)['code'] == 'payload_too_large'
    assert await closed(reader)
    writer.close()


async def test_a_chunked_json_body_is_cut_off_at_the_limit(server):
    reader, writer = await send_head(server, 'POST', '/account/login', {
        'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked'})
    chunk = b'x' * 16384
    for _ in range(4):  # 64 KB, over the 32 KB default
        writer.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
    await writer.drain()
    status, _, body = await read_response(reader)
    assert status == 413 and envelope(body)['code'] == 'payload_too_large'
    writer.close()


async def ends_cleanly(reader) -> bool:
    """Whether the server closes with a FIN after what it sent, not a reset (a reset
    can destroy an answer the client has not read yet)."""
    try:
        return await asyncio.wait_for(reader.read(65536), 10) == b''
    except ConnectionResetError:
        return False


async def test_a_client_still_sending_a_refused_chunked_body_reads_the_413(server):
    reader, writer = await send_head(server, 'POST', '/account/login', {
        'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked'})
    chunk = b'x' * 16384
    # 512 KB, all on the wire before the answer: over the 32 KB limit, and under
    # what the server reads and drops before closing
    writer.write(b'%x\r\n%s\r\n' % (len(chunk), chunk) * 32 + b'0\r\n\r\n')
    status, _, body = await read_response(reader)
    assert status == 413 and envelope(body)['code'] == 'payload_too_large'
    assert await ends_cleanly(reader)
    writer.close()


async def test_a_client_sending_a_body_over_the_limit_reads_the_413(server):
    reader, writer = await send_head(server, 'POST', '/account/login', {
        'Content-Type': 'application/json', 'Content-Length': str(512 * 1024)})
    writer.write(b'x' * 512 * 1024)  # sent without waiting for the answer
    status, _, body = await read_response(reader)  # refused from the headers
    assert status == 413 and envelope(body)['code'] == 'payload_too_large'
    assert await ends_cleanly(reader)
    writer.close()


async def test_an_anonymous_upload_is_a_401_before_its_body_is_read(server):
    reader, writer = await send_head(server, 'POST', '/storage/upload', {
        'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': str(95 * MB),
        'Expect': '100-continue'})
    status, _, body = await read_response(reader)
    assert status == 401 and envelope(body)['code'] == 'not_authenticated'
    assert await closed(reader)
    writer.close()


async def test_an_upload_over_request_max_size_is_a_413_before_its_body(server, client):
    await register(client, 'alice')
    reader, writer = await send_head(server, 'POST', '/storage/upload', {
        'Content-Type': 'multipart/form-data; boundary=x',
        'Content-Length': str(101 * MB)}, cookie=client.cookies['session'])
    status, _, body = await read_response(reader)
    assert status == 413 and envelope(body)['code'] == 'payload_too_large'
    writer.close()


async def test_a_small_json_request_still_works_with_expect_continue(server):
    payload = b'{"username": "nobody1", "password": "secret123"}'
    reader, writer = await send_head(server, 'POST', '/account/login', {
        'Content-Type': 'application/json', 'Content-Length': str(len(payload)),
        'Expect': '100-continue'})
    status, _, _ = await read_response(reader)
    assert status == 100
    writer.write(payload)
    status, _, body = await read_response(reader)
    assert status == 200 and envelope(body)['code'] == 'fail'
    writer.close()


def test_an_email_is_refused_for_its_length_before_it_is_validated(monkeypatch):
    from marshmallow import validate
    checked = []
    original = validate.Email.__call__
    monkeypatch.setattr(validate.Email, '__call__',
                        lambda self, value: checked.append(1) or original(self, value))
    for schema in (SendEmailCodeRequest(), ModifyRequest()):
        with pytest.raises(ValidationError) as refused:
            schema.load({'type': 'register', 'email': 'a.' * 5_000_000 + 'b@c.d'})
        assert refused.value.messages['email'] == ['Longer than maximum length 100.']
    assert checked == []


def test_a_long_image_list_is_refused_before_its_items_are_read():
    with pytest.raises(ValidationError) as refused:
        PublishRequest().load({'type': 'image', 'imageIds': ['x'] * 1_000_000})
    assert refused.value.messages == {'imageIds': ['Longer than maximum length 9.']}
