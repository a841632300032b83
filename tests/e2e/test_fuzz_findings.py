"""The defects that documenting and fuzzing the API found (tests/e2e/test_openapi_fuzz.py,
bench/fuzz.py), each as a client meets it."""
import io

import pytest
from PIL import Image

from tests.support import PASSWORD, call, register

pytestmark = pytest.mark.usefixtures('fast_passwords')


async def test_a_username_with_a_trailing_newline_is_refused(client):
    # `$` in the rule's regex also matched before a final newline: "alice\n" was a
    # valid, distinct username (and "123456\n" a mobile number).
    body = await call(client, 'POST', '/account/register', username='alice\n',
                      password=PASSWORD)
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith('username:')
    body = await call(client, 'POST', '/account/send/mobile/verify/code', type='register',
                      mobile='1234567\n')
    assert (body['status'], body['code']) == (400, 'invalid_param')
    assert body['message'].startswith('mobile:')


async def test_a_suffix_range_longer_than_the_file_gets_the_whole_file(client):
    # `Range: bytes=-N` with N over the size made Sanic seek before the start: a 500.
    await register(client, 'ranger')
    png = io.BytesIO()
    Image.new('RGB', (8, 8), (0, 90, 200)).save(png, 'PNG')
    upload = await client.post('/storage/upload',
                               files={'files': ('blue.png', png.getvalue(), 'image/png')})
    [file] = upload.json()['data']['files']
    path = '/files/' + file['url'].split('/files/', 1)[1]
    whole = (await client.get(path)).content
    size = len(whole)

    response = await client.get(path, headers={'Range': f'bytes=-{size + 500}'})
    assert response.status_code == 206
    assert response.headers['content-range'] == f'bytes 0-{size - 1}/{size}'
    assert response.content == whole
    response = await client.get(path, headers={'Range': 'bytes=-4'})
    assert response.status_code == 206 and response.content == whole[-4:]
