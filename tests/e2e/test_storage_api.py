"""POST /storage/upload and GET /storage/file/info end to end, on a real server whose
limits are small enough to cross in a test."""
import asyncio
import io
import os
import re
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from tests.support.clips import clip
from tests.support.servers import test_config as make_config
from tests.support import call, register
from weiguan.config import upload_path
from weiguan.dependencies import tables
from weiguan.entities.errors import Unavailable

MAX_FILE = 300_000
MAX_BODY = 1_000_000
MAX_NUMBER = 10
MAX_PIXELS = 4_000_000
FILE_KEYS = {'id', 'userId', 'region', 'bucket', 'path', 'meta', 'url', 'thumbs',
             'createdAt', 'updatedAt'}
MP4 = clip('mp4-h264').data  # a real clip: videos are read with PyAV


@pytest.fixture
def config(tmp_path):
    # Other types on: these tests mix PDFs and raw bytes into uploads to test limits.
    return make_config(tmp_path, UPLOAD_FILE_MAX_SIZE=MAX_FILE, REQUEST_MAX_SIZE=MAX_BODY,
                       UPLOAD_FILE_MAX_NUMBER=MAX_NUMBER, IMAGE_MAX_PIXELS=MAX_PIXELS,
                       UPLOAD_ALLOW_OTHER_TYPES=True)


def image(size=(1600, 1200), fmt='JPEG', mode='RGB', color=0) -> bytes:
    buffer = io.BytesIO()
    picture = Image.linear_gradient('L').resize(size).convert(mode)
    if color:
        picture.paste((color, 0, 0)[:len(mode)] if mode != 'L' else color, (0, 0, 8, 8))
    picture.save(buffer, fmt)
    return buffer.getvalue()


async def upload(client: httpx.AsyncClient, *files, **fields) -> dict:
    """The envelope of an upload of (name, bytes, content type) triples."""
    response = await client.post('/storage/upload', data=fields,
                                 files=[('files', file) for file in files])
    body = response.json()
    assert set(body) == {'code', 'message', 'data'}, body
    body['status'] = response.status_code
    return body


def files_on_disk(config) -> list[Path]:
    return sorted(p for p in Path(upload_path(config)).rglob('*') if p.is_file())


async def file_rows(container) -> int:
    database = await container.database()
    async with database.connection() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(tables.file))).scalar()


async def assert_nothing_stored(config, container):
    assert files_on_disk(config) == []
    assert await file_rows(container) == 0


def check_file_entity(file: dict, user_id: int, name: str, data: bytes, type: str,
                      width: int, height: int, bucket: str, folder: str,
                      duration: int = 0) -> None:
    """Every key the app reads, with its type and value."""
    assert set(file) == FILE_KEYS
    assert isinstance(file['id'], int) and file['id'] > 0
    assert file['userId'] == user_id and file['region'] == 'local'
    assert file['bucket'] == bucket
    assert file['path'].startswith(folder)
    stored_name = file['path'][len(folder):]  # the server's, whatever the client's was
    extension = {'image/jpeg': 'jpg', 'application/pdf': 'pdf'}.get(type, type.split('/')[1])
    assert re.fullmatch(r'[0-9a-f]{32}\.' + extension, stored_name), stored_name
    assert file['meta'] == {'name': name, 'size': len(data), 'type': type, 'width': width,
                            'height': height, 'duration': duration}
    assert file['url'] == f'http://testserver/files/{bucket}/{file["path"]}'
    is_image = type.startswith('image/')
    assert file['thumbs'] == {size: f'{file["url"]}?process=thumb-{size}' if is_image else ''
                              for size in ('small', 'middle', 'large', 'huge')}
    for key in ('createdAt', 'updatedAt'):
        assert datetime.fromisoformat(file[key]).utcoffset() is not None


def url_path(file: dict) -> str:
    return '/files/' + file['url'].split('/files/', 1)[1]


async def test_upload_one_image(client, container, config):
    user = await register(client)
    data = image((1600, 1200))

    body = await upload(client, ('猫 cat.jpg', data, 'image/jpeg'), bucket='avatar',
                        path='2026/11')

    assert (body['status'], body['code']) == (200, 'ok'), body
    [file] = body['data']['files']
    check_file_entity(file, user['id'], '猫 cat.jpg', data, 'image/jpeg', 1600, 1200,
                      'avatar', '2026/11/')
    downloaded = await client.get(url_path(file))
    assert downloaded.status_code == 200 and downloaded.content == data
    info = await call(client, 'GET', '/storage/file/info', id=file['id'])
    assert info['code'] == 'ok' and info['data']['file'] == file
    assert len(files_on_disk(config)) == 1 and await file_rows(container) == 1


async def test_upload_several_files_keeps_their_order(client, container, config):
    user = await register(client)
    sent = [('a.jpg', image((640, 480)), 'image/jpeg', 640, 480, 0),
            ('b.png', image((300, 500), 'PNG', 'RGBA'), 'image/png', 300, 500, 0),
            ('c.gif', image((64, 64), 'GIF', 'L'), 'image/gif', 64, 64, 0),
            ('d.webp', image((100, 50), 'WEBP'), 'image/webp', 100, 50, 0),
            ('e.mp4', MP4, 'video/mp4', 64, 48, 3),
            ('f.pdf', b'%PDF-1.4\n' + bytes(50), 'application/pdf', 0, 0, 0)]

    body = await upload(client, *[(name, data, type) for name, data, type, *_ in sent],
                        bucket='post')

    assert body['code'] == 'ok', body
    files = body['data']['files']
    assert [f['meta']['name'] for f in files] == [name for name, *_ in sent]
    for file, (name, data, type, width, height, duration) in zip(files, sent):
        check_file_entity(file, user['id'], name, data, type, width, height, 'post', '',
                          duration)
        assert (await client.get(url_path(file))).content == data
    assert [f['id'] for f in files] == sorted(f['id'] for f in files)
    assert len(files_on_disk(config)) == len(sent) == await file_rows(container)


async def test_upload_defaults_to_the_default_bucket(client):
    await register(client)
    body = await upload(client, ('a.jpg', image((10, 10)), 'image/jpeg'))
    [file] = body['data']['files']
    assert file['bucket'] == 'default' and '/' not in file['path']


async def test_upload_needs_login(client, container, config):
    body = await upload(client, ('a.jpg', image((10, 10)), 'image/jpeg'))
    assert (body['status'], body['code']) == (401, 'not_authenticated')
    await assert_nothing_stored(config, container)


@pytest.mark.parametrize('count', [0, MAX_NUMBER + 1])
async def test_upload_needs_one_to_ten_files(client, container, config, count):
    await register(client)
    body = await upload(client, *[(f'{i}.jpg', image((8, 8)), 'image/jpeg')
                                  for i in range(count)], bucket='post')
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith('files:')
    await assert_nothing_stored(config, container)


async def test_files_under_another_field_name_do_not_count(client, container, config):
    await register(client)
    response = await client.post('/storage/upload',
                                 files=[('file', ('a.jpg', image((8, 8)), 'image/jpeg'))])
    assert response.status_code == 400 and response.json()['message'].startswith('files:')
    await assert_nothing_stored(config, container)


async def test_malformed_upload_bodies_are_400(client, container, config):
    await register(client)
    jpeg = image((8, 8))
    bodies = [
        ({'Content-Type': 'multipart/form-data'}, b'--x\r\n' + jpeg),  # no boundary
        ({'Content-Type': 'multipart/form-data; boundary=x'}, os.urandom(2000)),
        ({'Content-Type': 'multipart/form-data; boundary=x'},
         b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n'
         b'Content-Type: image/jpeg\r\n\r\n' + jpeg),  # never closed
        ({'Content-Type': 'multipart/form-data; boundary=x'},
         b'--x\r\nContent-Disposition: form-data; name="bucket"\r\n'
         b'Content-Type: text/plain; charset=no-such-charset\r\n\r\nb\r\n--x--\r\n'),
        ({'Content-Type': 'application/json'}, b'{"files": ["a.jpg"]}'),
        ({}, b''),
    ]
    for headers, content in bodies:
        response = await client.post('/storage/upload', headers=headers, content=content)
        body = response.json()
        assert (response.status_code, body['code']) == (400, 'invalid_param'), content[:80]
        assert body['message'].startswith(('files:', 'body:', 'Content-Type:')), body
    await assert_nothing_stored(config, container)


async def test_a_file_over_the_size_limit_is_413(client, container, config):
    await register(client)
    big = image((16, 16)) + bytes(MAX_FILE)
    body = await upload(client, ('ok.jpg', image((8, 8)), 'image/jpeg'),
                        ('big.jpg', big, 'image/jpeg'))
    assert (body['status'], body['code']) == (413, 'payload_too_large')
    assert 'big.jpg' in body['message']
    await assert_nothing_stored(config, container)


BAD_FILES = {
    'text sent as an image': ('fake.jpg', b'I am not a picture', 'image/jpeg'),
    'image magic then garbage': ('fake.png', b'\x89PNG\r\n\x1a\n' + bytes(64), 'image/png'),
    'truncated jpeg': ('cut.jpg', image((400, 300))[:2000], 'image/jpeg'),
    'png sent as a video': ('fake.mp4', image((8, 8), 'PNG'), 'video/mp4'),
    'unsupported image format': ('x.tif', image((8, 8), 'TIFF'), 'image/tiff'),
    'too many pixels': ('huge.png', image((2100, 2000), 'PNG', 'L'), 'image/png'),
    'empty': ('empty.jpg', b'', 'image/jpeg'),
}


async def test_bad_files_are_refused_with_nothing_stored(client, container, config):
    await register(client)
    for case, bad in BAD_FILES.items():
        body = await upload(client, ('good.jpg', image((8, 8)), 'image/jpeg'), bad)
        assert (body['status'], body['code']) == (400, 'invalid_param'), (case, body)
        assert body['message'].startswith(f'files: {bad[0]} '), (case, body)
        await assert_nothing_stored(config, container)


UNSAFE_FIELDS = [
    {'bucket': '../x'}, {'bucket': '..'}, {'bucket': '/abs'}, {'bucket': ''},
    {'bucket': 'a\\b'}, {'bucket': 'a' * 33}, {'bucket': 'a/../../b'},
    {'path': '/etc'}, {'path': '../..'}, {'path': 'a\\b'}, {'path': 'a//b'},
    {'path': 'a/./b'}, {'path': 'a/'}, {'path': 'a\n'}, {'path': 'x' * 101},
    {'path': 'a/%2e%2e'}, {'path': 'C:/x'}, {'region': 's3'},
]


async def test_unsafe_bucket_and_path_are_refused(client, container, config):
    await register(client)
    for fields in UNSAFE_FIELDS:
        body = await upload(client, ('a.jpg', image((8, 8)), 'image/jpeg'), **fields)
        assert (body['status'], body['code']) == (400, 'invalid_param'), (fields, body)
        [field] = fields
        assert body['message'].startswith(f'{field}:'), (fields, body)
        await assert_nothing_stored(config, container)
    assert list(Path(config['DATA_PATH']).rglob('*.jpg')) == []


async def test_a_failed_insert_leaves_no_file_on_disk(server, client, container, config):
    await register(client)
    storage = server.container.storage_service()
    written = []

    class LostDatabase:
        async def create_many(self, files):
            written.extend(files_on_disk(config))  # the files are on disk by now
            raise Unavailable()
    storage.files, original = LostDatabase(), storage.files
    try:
        body = await upload(client, ('a.jpg', image((8, 8)), 'image/jpeg'),
                            ('b.jpg', image((9, 9)), 'image/jpeg'))
    finally:
        storage.files = original
    assert (body['status'], body['code']) == (503, 'unavailable')
    assert len(written) == 2
    await assert_nothing_stored(config, container)


async def _raw_exchange(server, request: bytes) -> bytes:
    """Send `request` as is and read the whole answer (the server closes)."""
    host, port = server.url.removeprefix('http://').split(':')
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


def _session_cookie(client: httpx.AsyncClient) -> str:
    return '; '.join(f'{name}={value}' for name, value in client.cookies.items())


async def test_a_body_over_request_max_size_is_refused_before_it_is_read(
        server, client, container, config):
    """The headers announce 10 MB; the server answers 413 at once, without waiting
    for (or buffering) a body it was never sent."""
    await register(client)
    head = (b'POST /storage/upload HTTP/1.1\r\nHost: test\r\n'
            b'Cookie: ' + _session_cookie(client).encode() + b'\r\n'
            b'Content-Type: multipart/form-data; boundary=xyz\r\n'
            b'Content-Length: ' + str(10 * MAX_BODY).encode() + b'\r\n\r\n')
    answer = await _raw_exchange(server, head + b'--xyz\r\n')
    status, _, body = answer.partition(b'\r\n')
    assert status == b'HTTP/1.1 413 Request Entity Too Large'
    assert b'"code":"payload_too_large"' in body
    await assert_nothing_stored(config, container)


async def test_a_chunked_body_is_cut_off_at_request_max_size(server, client, container, config):
    """Without a length up front the server counts as it reads, and answers 413 once
    past the limit, before the body has ended."""
    await register(client)
    head = (b'POST /storage/upload HTTP/1.1\r\nHost: test\r\n'
            b'Cookie: ' + _session_cookie(client).encode() + b'\r\n'
            b'Content-Type: multipart/form-data; boundary=xyz\r\n'
            b'Transfer-Encoding: chunked\r\n\r\n')
    part = (b'--xyz\r\nContent-Disposition: form-data; name="files"; '
            b'filename="a.bin"\r\n\r\n')  # a well-formed start: it is read on
    chunk = b'y' * (MAX_BODY // 10)
    chunks = [part + chunk[len(part):]] + [chunk] * 9 + [b'!']  # exactly the limit,
    # then one byte more; the server
    # reads that byte whole, so closing leaves nothing unread (which would reset the
    # connection before the answer could be read)
    body = b''.join(b'%x\r\n%s\r\n' % (len(c), c) for c in chunks)
    answer = await _raw_exchange(server, head + body)  # no closing 0-chunk is ever sent
    assert answer.startswith(b'HTTP/1.1 413 ')
    assert b'"code":"payload_too_large"' in answer
    await assert_nothing_stored(config, container)


async def test_an_upload_just_under_request_max_size_passes(client, container, config):
    await register(client)
    files = [(f'{i}.bin', bytes([i]) * (MAX_FILE - 1000), 'application/octet-stream')
             for i in range(3)]  # ~900 KB of the 1 MB allowed
    body = await upload(client, *files)
    assert body['code'] == 'ok', body
    assert await file_rows(container) == 3


async def test_file_info(client, make_client):
    await register(client)
    [file] = (await upload(client, ('a.jpg', image((8, 8)), 'image/jpeg')))['data']['files']

    other = make_client()
    await register(other, 'bob')
    seen = await call(other, 'GET', '/storage/file/info', id=file['id'])
    assert seen['code'] == 'ok' and seen['data']['file'] == file
    missing = await call(other, 'GET', '/storage/file/info', id=file['id'] + 1000)
    assert (missing['status'], missing['code']) == (404, 'not_found')
    for bad in ('abc', '0', '-1', '1.5', str(2**40)):
        refused = await call(other, 'GET', '/storage/file/info', id=bad)
        assert (refused['status'], refused['code']) == (400, 'invalid_param')
        assert refused['message'].startswith('id:')
    refused = await call(other, 'GET', '/storage/file/info')
    assert (refused['status'], refused['message'][:3]) == (400, 'id:')
    anonymous = await call(make_client(), 'GET', '/storage/file/info', id=file['id'])
    assert (anonymous['status'], anonymous['code']) == (401, 'not_authenticated')


async def test_part_headers_read_as_before_the_streaming_parser(client):
    """RFC 2231 names, NFD names (iOS) and several files, streamed part by part."""
    await register(client)
    boundary = 'b0undary'
    jpeg = image((64, 48))
    decomposed = 'cafe\u0301.jpg'  # é as e + a combining accent
    parts = [
        (b'Content-Disposition: form-data; name="bucket"', b'avatars'),
        (b"Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''%E5%9B%B4.jpg"
         b'\r\nContent-Type: image/jpeg', jpeg),
        (b'Content-Disposition: form-data; name="files"; filename="'
         + decomposed.encode() + b'"\r\nContent-Type: image/jpeg', jpeg),
    ]
    body = b''.join(b'--%s\r\n%s\r\n\r\n%s\r\n' % (boundary.encode(), head, data)
                    for head, data in parts) + b'--%s--\r\n' % boundary.encode()
    response = await client.post('/storage/upload', content=body, headers={
        'Content-Type': f'multipart/form-data; boundary={boundary}'})
    files = response.json()['data']['files']
    assert [f['meta']['name'] for f in files] == ['围.jpg', 'caf\u00e9.jpg']
    assert {f['bucket'] for f in files} == {'avatars'}


async def test_a_form_field_over_64_kb_is_refused_naming_it(client):
    await register(client)
    body = await upload(client, ('a.jpg', image((64, 48)), 'image/jpeg'),
                        path='p' * 70_000)
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert "'path'" in body['message'] and '65536 bytes' in body['message']
