"""GET /files/<bucket>/<path...> end to end (bytes, thumbnails, headers, refusals),
and the local disk adapter under it (locations that must never leave the upload
directory, all-or-nothing writes, thumbnails made once)."""
import asyncio
import io
import os
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.support.clips import clip
from tests.support.servers import test_config as make_config
from tests.support import register
from weiguan.config import thumb_path, upload_path
from weiguan.dependencies.storage import LocalDisk
from weiguan.services.file_links import THUMB_BOUNDS

SECRET = b'top secret, outside the upload directory'
MP4 = clip('mp4-h264').data  # a real clip: videos are read with PyAV


def image(size=(1600, 1200), fmt='JPEG', mode='RGB') -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient('L').resize(size).convert(mode).save(buffer, fmt)
    return buffer.getvalue()


async def upload_one(client: httpx.AsyncClient, name: str, data: bytes, type: str) -> dict:
    response = await client.post('/storage/upload', data={'bucket': 'post', 'path': 'p'},
                                 files=[('files', (name, data, type))])
    body = response.json()
    assert body['code'] == 'ok', body
    return body['data']['files'][0]


def url_path(url: str) -> str:
    return '/files/' + url.split('/files/', 1)[1]


@pytest.fixture
def config(tmp_path):
    """Other types on: how they are served is tested here."""
    return make_config(tmp_path, UPLOAD_ALLOW_OTHER_TYPES=True)


@pytest.fixture
async def photo(client):
    await register(client)
    data = image((1600, 1200))
    return data, await upload_one(client, 'photo.jpg', data, 'image/jpeg')


async def test_the_bytes_are_served_without_login_or_session(photo, make_client):
    data, file = photo
    anonymous = make_client()
    response = await anonymous.get(url_path(file['url']))

    assert response.status_code == 200 and response.content == data
    assert response.headers['content-type'] == 'image/jpeg'
    assert response.headers['x-content-type-options'] == 'nosniff'
    assert 'content-disposition' not in response.headers
    assert 'immutable' in response.headers['cache-control']
    assert 'set-cookie' not in response.headers


async def test_every_thumbnail_fits_its_box_and_is_cached(photo, client, config):
    data, file = photo
    for size, bound in THUMB_BOUNDS.items():
        response = await client.get(url_path(file['thumbs'][size]))
        assert response.status_code == 200, response.text
        assert response.headers['content-type'] == 'image/jpeg'
        assert response.headers['x-content-type-options'] == 'nosniff'
        with Image.open(io.BytesIO(response.content)) as thumb:
            thumb.load()
            assert thumb.format == 'JPEG'
            assert max(thumb.size) == bound  # the original is larger than every box
            assert abs(thumb.width / thumb.height - 1600 / 1200) < 0.02
        assert len(response.content) < len(data)
        again = await client.get(url_path(file['thumbs'][size]))
        assert again.content == response.content
    cached = sorted(p.name for p in Path(thumb_path(config)).rglob('*') if p.is_file())
    assert len(cached) == len(THUMB_BOUNDS)
    assert all(name == file['path'].rsplit('/', 1)[1] + '.jpg' for name in cached)
    uploads = [p for p in Path(upload_path(config)).rglob('*') if p.is_file()]
    assert len(uploads) == 1  # thumbnails are not kept among the uploads


async def test_small_images_are_not_enlarged(client):
    await register(client)
    file = await upload_one(client, 'dot.png', image((100, 80), 'PNG', 'RGBA'), 'image/png')
    response = await client.get(url_path(file['thumbs']['huge']))
    with Image.open(io.BytesIO(response.content)) as thumb:
        assert (thumb.format, thumb.mode, thumb.size) == ('JPEG', 'RGB', (100, 80))


async def test_unknown_or_misapplied_process_is_400(photo, client):
    _, file = photo
    for process in ('thumb-giant', 'resize', 'THUMB-SMALL', 'x' * 40):
        response = await client.get(url_path(file['url']), params={'process': process})
        body = response.json()
        assert (response.status_code, body['code']) == (400, 'invalid_param'), process
        assert body['message'].startswith('process:')
    pdf = await upload_one(client, 'paper.pdf', b'%PDF-1.4\n' + bytes(99), 'application/pdf')
    assert pdf['thumbs']['small'] == ''
    response = await client.get(url_path(pdf['url']), params={'process': 'thumb-small'})
    assert response.status_code == 400 and response.json()['message'].startswith('process:')


async def test_other_types_download_as_attachments(client):
    await register(client)
    pdf = await upload_one(client, 'paper.pdf', b'%PDF-1.4\n' + bytes(99), 'application/pdf')
    page = b'<html><script>alert(document.cookie)</script></html>'
    html = await upload_one(client, 'page.html', page, 'text/html')
    assert html['meta']['type'] == 'application/octet-stream'

    response = await client.get(url_path(pdf['url']))
    assert response.headers['content-type'] == 'application/pdf'
    assert response.headers['content-disposition'].startswith('attachment')
    response = await client.get(url_path(html['url']))
    assert response.content == page
    assert response.headers['content-type'] == 'application/octet-stream'
    assert response.headers['content-disposition'].startswith('attachment')
    assert response.headers['x-content-type-options'] == 'nosniff'


async def test_videos_play_inline_and_seek_by_range(client):
    await register(client)
    file = await upload_one(client, 'clip.mp4', MP4, 'video/mp4')
    response = await client.get(url_path(file['url']))
    assert response.headers['content-type'] == 'video/mp4'
    assert 'content-disposition' not in response.headers
    assert response.headers['accept-ranges'] == 'bytes'

    part = await client.get(url_path(file['url']), headers={'Range': 'bytes=100-199'})
    assert part.status_code == 206 and part.content == MP4[100:200]
    assert part.headers['content-range'] == f'bytes 100-199/{len(MP4)}'
    tail = await client.get(url_path(file['url']), headers={'Range': f'bytes=1000-{10**6}'})
    assert tail.status_code == 206 and tail.content == MP4[1000:]
    assert tail.headers['content-range'] == f'bytes 1000-{len(MP4) - 1}/{len(MP4)}'


async def test_large_files_are_streamed_whole_and_by_range(client):
    await register(client)
    big = MP4 + os.urandom(3 * 2**20)  # past the size from which files are streamed
    file = await upload_one(client, 'long.mp4', big, 'video/mp4')
    response = await client.get(url_path(file['url']))
    assert response.status_code == 200 and response.content == big
    part = await client.get(url_path(file['url']), headers={'Range': 'bytes=2000000-2000099'})
    assert part.status_code == 206 and part.content == big[2000000:2000100]


async def test_unchanged_files_are_not_sent_again(photo, client):
    _, file = photo
    first = await client.get(url_path(file['url']))
    later = formatdate(os.path.getmtime(__file__) + 10**9, usegmt=True)
    response = await client.get(url_path(file['url']),
                                headers={'If-Modified-Since': first.headers['last-modified']})
    assert response.status_code == 304 and response.content == b''
    response = await client.get(url_path(file['url']), headers={'If-Modified-Since': later})
    assert response.status_code == 304


async def test_missing_files_are_404(photo, client):
    _, file = photo
    for path in ('/files/post/p/0123456789abcdef0123456789abcdef.jpg', '/files/post',
                 '/files/post/p', '/files/nothing/here.png'):
        response = await client.get(path)
        assert (response.status_code, response.json()['code']) == (404, 'not_found'), path
    response = await client.get('/files/post/p/missing.jpg', params={'process': 'thumb-small'})
    assert response.status_code == 404


async def _raw_get(server, target: bytes) -> tuple[bytes, bytes]:
    """GET with the request target exactly as given (clients normalise '..' away)."""
    host, port = server.url.removeprefix('http://').split(':')
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b'GET ' + target + b' HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n')
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    status, _, rest = answer.partition(b'\r\n')
    return status, rest


async def test_paths_out_of_the_upload_directory_are_404(server, photo, config):
    _, file = photo
    data_path = Path(config['DATA_PATH'])
    (data_path / 'secret.txt').write_bytes(SECRET)
    root = Path(upload_path(config))
    (root / 'post' / 'link.txt').symlink_to(data_path / 'secret.txt')
    (root / 'post' / 'dirlink').symlink_to(data_path)
    stored = file['path'].encode()
    targets = [
        b'/files/../secret.txt', b'/files/..%2fsecret.txt', b'/files/%2e%2e/secret.txt',
        b'/files/post/../../secret.txt', b'/files/post/..%2f..%2fsecret.txt',
        b'/files/post/%2e%2e/%2e%2e/secret.txt', b'/files/post/..\\..\\secret.txt',
        b'/files/post/..%5c..%5csecret.txt', b'/files//etc/passwd', b'/files/%2fetc%2fpasswd',
        b'/files/post/link.txt', b'/files/post/dirlink/secret.txt',
        b'/files/post/%00/secret.txt', b'/files/post/p/.' + stored,
        b'/files/post/' + stored.replace(b'/', b'%2f'),
    ]
    for target in targets:
        status, rest = await _raw_get(server, target)
        assert status.split()[1] in (b'400', b'404'), (target, status)
        assert SECRET not in rest and b'root:' not in rest, target
    status, rest = await _raw_get(server, b'/files/post/' + stored)
    assert status.split()[1] == b'200'  # the same server does serve the real file


# The local disk adapter


@pytest.fixture
def disk(tmp_path):
    (tmp_path / 'secret.txt').write_bytes(SECRET)
    return LocalDisk(str(tmp_path / 'files'), str(tmp_path / 'cache'))


@pytest.mark.parametrize('location', [
    '../secret.txt', 'a/../../secret.txt', '/etc/passwd', 'a//b', 'a\\..\\..\\secret.txt',
    '', '.', '..', 'a/.hidden', 'a/\x00', str(Path('/etc/passwd')),
])
def test_disk_never_finds_outside_its_root(disk, location):
    assert disk.find(location) is None


def test_disk_refuses_a_cache_that_nests_with_the_uploads(tmp_path):
    for uploads, cache in (('data', 'data/thumbs'), ('data/files', 'data'), ('d', 'd')):
        with pytest.raises(ValueError):
            LocalDisk(str(tmp_path / uploads), str(tmp_path / cache))


async def test_disk_write_is_all_or_nothing(disk):
    await disk.write({'b/one.jpg': b'1'})
    os.makedirs(disk.root / 'b' / 'dir.jpg')  # a folder where a file should go: fails
    with pytest.raises(OSError):
        await disk.write({'b/two.jpg': b'2', 'b/dir.jpg': b'3'})
    assert sorted(p.name for p in disk.root.rglob('*')) == ['b', 'dir.jpg', 'one.jpg']
    assert Path(disk.find('b/one.jpg')).read_bytes() == b'1'
    with pytest.raises(ValueError):
        await disk.write({'../escape.jpg': b'4'})
    assert not (disk.root.parent / 'escape.jpg').exists()


async def test_disk_discard_removes_only_inside(disk):
    await disk.write({'b/one.jpg': b'1', 'b/two.jpg': b'2'})
    disk.discard(['b/one.jpg', '../secret.txt', 'b/never.jpg'])
    assert disk.find('b/one.jpg') is None and disk.find('b/two.jpg') is not None
    assert (disk.root.parent / 'secret.txt').read_bytes() == SECRET


async def test_disk_makes_a_derived_copy_once(disk):
    await disk.write({'b/one.jpg': b'original'})
    calls = []

    async def make(source: str, target: str) -> None:
        calls.append(source)
        await asyncio.sleep(0.01)
        Path(target).write_bytes(Path(source).read_bytes().upper())

    paths = await asyncio.gather(*[disk.derived('b/one.jpg', 'thumb-small', '.jpg', make)
                                   for _ in range(5)])
    assert len(set(paths)) == 1 and len(calls) == 1
    assert Path(paths[0]).read_bytes() == b'ORIGINAL'
    assert Path(paths[0]).is_relative_to(disk.cache_root)
    assert await disk.derived('b/one.jpg', 'thumb-small', '.jpg', make) == paths[0]
    assert len(calls) == 1
    assert await disk.derived('b/none.jpg', 'thumb-small', '.jpg', make) is None


async def test_disk_failed_make_leaves_no_copy_and_is_retried(disk):
    await disk.write({'b/one.jpg': b'original'})

    async def broken(source: str, target: str) -> None:
        Path(target).write_bytes(b'half')
        raise OSError('disk full')

    with pytest.raises(OSError):
        await disk.derived('b/one.jpg', 'v', '.jpg', broken)
    assert [p for p in disk.cache_root.rglob('*') if p.is_file()] == []

    async def works(source: str, target: str) -> None:
        Path(target).write_bytes(b'ok')
    path = await disk.derived('b/one.jpg', 'v', '.jpg', works)
    assert Path(path).read_bytes() == b'ok'
