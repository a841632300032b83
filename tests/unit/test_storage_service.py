"""StorageService on fakes of the file repository and the disk, with the real media
inspector (it does no I/O: it reads bytes given to it). Also the media inspector's
own edge cases (orientation, decompression bombs, thumbnails)."""
import asyncio
import io
import struct
import zlib

import pytest
from PIL import Image

from tests.support.clips import clip
from tests.support.fakes import FakeFiles
from weiguan.dependencies.media import MediaInspector
from weiguan.dependencies.video import VideoProbe
from weiguan.entities.errors import InvalidParam, NotFound, PayloadTooLarge, Unavailable
from weiguan.services.file_links import THUMB_BOUNDS, FileLinks
from weiguan.services.storage import (IMAGE_TYPES, StorageService, Upload, clean_name,
                                      human_size)

MAX_SIZE = 200_000
MAX_NUMBER = 3
MAX_PIXELS = 1_000_000
MP4 = clip('mp4-h264').data  # a real clip: videos are read with PyAV
PDF = b'%PDF-1.4\n' + bytes(100)


def image(size=(40, 30), fmt='JPEG', mode='RGB', **save) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient('L').resize(size).convert(mode).save(buffer, fmt, **save)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels (a decompression bomb's
    header: costs nothing to send, gigabytes to decode)."""
    data = bytearray(image((1, 1), 'PNG'))
    ihdr = 8 + 4  # signature, chunk length; then b'IHDR' and its 13 bytes
    data[ihdr + 4:ihdr + 12] = struct.pack('>II', width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17]))
    data[ihdr + 17:ihdr + 21] = struct.pack('>I', crc)
    return bytes(data)


def rotated_jpeg(size=(60, 20), orientation=6) -> bytes:
    """A JPEG stored sideways, with the EXIF tag that tells viewers to turn it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return image(size, exif=exif.tobytes())


class FakeDisk:
    """LocalDisk in memory: locations to bytes, and the derived copies made."""

    def __init__(self):
        self.stored: dict[str, bytes] = {}
        self.made: list[tuple[str, str]] = []

    def find(self, location: str) -> str | None:
        return f'/disk/{location}' if location in self.stored else None

    async def write(self, files: dict[str, bytes]) -> None:
        self.stored.update(files)

    def discard(self, locations: list[str]) -> None:
        for location in locations:
            self.stored.pop(location, None)

    async def derived(self, location, variant, suffix, make):
        if location not in self.stored:
            return None
        self.made.append((location, variant))
        return f'/cache/{variant}/{location}{suffix}'


@pytest.fixture
def files():
    return FakeFiles()


@pytest.fixture
def disk():
    return FakeDisk()


@pytest.fixture
def service(files, disk):
    return StorageService(files=files, disk=disk, media=MediaInspector(MAX_PIXELS),
                          video=VideoProbe(MAX_PIXELS, timeout=10),
                          links=FileLinks('http://cdn.test/files'), max_size=MAX_SIZE,
                          max_number=MAX_NUMBER, allow_other_types=True)


def upload(body: bytes, name: str = 'photo.jpg', type: str = 'image/jpeg') -> Upload:
    return Upload(name=name, type=type, body=body)


async def test_upload_stores_files_under_generated_names(service, files, disk):
    jpeg, png = image((40, 30)), image((7, 9), 'PNG', 'RGBA')
    stored = await service.upload(5, [upload(jpeg, '../../etc/passwd.jpg'),
                                      upload(png, 'dot.png', 'image/png')],
                                  bucket='avatar', path='2026/11')

    assert [f['meta'] for f in stored] == [
        {'name': 'passwd.jpg', 'size': len(jpeg), 'type': 'image/jpeg', 'width': 40,
         'height': 30, 'duration': 0},
        {'name': 'dot.png', 'size': len(png), 'type': 'image/png', 'width': 7, 'height': 9,
         'duration': 0}]
    first, second = stored
    assert first['path'].startswith('2026/11/') and first['path'].endswith('.jpg')
    assert second['path'].endswith('.png') and first['path'] != second['path']
    assert 'passwd' not in first['path']
    assert disk.stored == {f'avatar/{first["path"]}': jpeg, f'avatar/{second["path"]}': png}
    assert [f['user_id'] for f in stored] == [5, 5]
    assert sorted(files.rows) == [f['id'] for f in stored]
    assert first['url'] == f'http://cdn.test/files/avatar/{first["path"]}'
    assert first['thumbs']['small'] == first['url'] + '?process=thumb-small'


async def test_path_may_be_empty(service, disk):
    [stored] = await service.upload(1, [upload(image())], bucket='b', path='')
    assert '/' not in stored['path']
    assert list(disk.stored) == [f'b/{stored["path"]}']


async def test_other_types_are_kept_by_their_sniffed_type(service):
    video, pdf, text = await service.upload(1, [
        upload(MP4, 'clip.mp4', 'video/mp4'),
        upload(PDF, 'paper.pdf', 'application/pdf'),
        upload(b'just some text', 'notes.exe', 'text/plain')])

    assert video['meta']['type'] == 'video/mp4' and video['path'].endswith('.mp4')
    assert [video['meta'][k] for k in ('width', 'height', 'duration')] == [64, 48, 3]
    assert pdf['meta']['type'] == 'application/pdf' and pdf['path'].endswith('.pdf')
    assert text['meta']['type'] == 'application/octet-stream'
    assert text['path'].endswith('.bin') and text['meta']['name'] == 'notes.exe'
    assert all(thumb == '' for f in (video, pdf, text) for thumb in f['thumbs'].values())


async def test_sideways_photos_report_their_size_as_shown(service):
    [stored] = await service.upload(1, [upload(rotated_jpeg((60, 20), orientation=6))])
    assert (stored['meta']['width'], stored['meta']['height']) == (20, 60)


@pytest.mark.parametrize('count', [0, MAX_NUMBER + 1])
async def test_upload_needs_one_to_max_files(service, disk, files, count):
    with pytest.raises(InvalidParam) as error:
        await service.upload(1, [upload(image()) for _ in range(count)])
    assert error.value.message.startswith('files:') and str(MAX_NUMBER) in error.value.message
    assert disk.stored == {} and files.rows == {}


async def test_a_file_over_the_size_limit_is_413_and_nothing_is_stored(service, disk, files):
    big = image() + bytes(MAX_SIZE)
    with pytest.raises(PayloadTooLarge) as error:
        await service.upload(1, [upload(image()), upload(big, 'big.jpg')])
    assert 'big.jpg' in error.value.message and '195 KiB' in error.value.message
    assert disk.stored == {} and files.rows == {}


BAD_FILES = {
    'empty': (upload(b'', 'empty.jpg'), 'empty'),
    'text sent as an image': (upload(b'<svg onload=alert(1)>', 'x.jpg'), 'sent as image/jpeg'),
    'png sent as a video': (upload(image(fmt='PNG'), 'x.mp4', 'video/mp4'), 'sent as video/mp4'),
    'jpeg magic, garbage after': (upload(b'\xff\xd8\xff\xe0' + bytes(500)), 'not a readable'),
    'truncated jpeg': (upload(image((300, 200))[:1600]), 'not a readable'),
    'tiff': (upload(image(fmt='TIFF'), 'x.tif', 'image/tiff'), 'image/tiff; accepted'),
    'over the pixel limit': (upload(image((1001, 1000), 'PNG')), 'more than 1,000,000 pixels'),
    'decompression bomb': (upload(png_claiming(100_000, 100_000), 'bomb.png', 'image/png'),
                           'more than 1,000,000 pixels'),
}


@pytest.mark.parametrize('bad, problem', BAD_FILES.values(), ids=BAD_FILES)
async def test_bad_files_are_refused_and_nothing_is_stored(service, disk, files, bad, problem):
    with pytest.raises(InvalidParam) as error:
        await service.upload(1, [upload(image(), 'good.jpg'), bad])
    assert error.value.message.startswith(f'files: {clean_name(bad.name)} ')
    assert problem in error.value.message
    assert disk.stored == {} and files.rows == {}


async def test_a_failed_insert_removes_the_written_files(service, disk, files):
    files.fail = True
    with pytest.raises(Unavailable):
        await service.upload(1, [upload(image()), upload(image((5, 5)))])
    assert disk.stored == {} and files.rows == {}


async def test_a_client_leaving_mid_write_leaves_files_and_rows_together(service, disk, files):
    files.gate = asyncio.Event()
    task = asyncio.create_task(service.upload(1, [upload(image())]))
    while not disk.stored:  # written, the insert waits at the gate
        await asyncio.sleep(0)
    task.cancel()
    files.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(files.rows) == 1 and len(disk.stored) == 1
    assert f'default/{files.rows[1]["path"]}' in disk.stored


async def test_info(service):
    [stored] = await service.upload(3, [upload(image())])
    assert await service.info(stored['id']) == stored
    with pytest.raises(NotFound):
        await service.info(stored['id'] + 1)


async def test_download_serves_media_inline_and_the_rest_as_attachment(service):
    jpeg, video, pdf = await service.upload(1, [upload(image()), upload(MP4, 'v.mp4', 'video/mp4'),
                                                upload(PDF, 'p.pdf', 'application/pdf')])
    got = await service.download(f'default/{jpeg["path"]}')
    assert (got.path, got.type, got.inline) == (
        f'/disk/default/{jpeg["path"]}', 'image/jpeg', True)
    got = await service.download(f'default/{video["path"]}')
    assert (got.type, got.inline) == ('video/mp4', True)
    got = await service.download(f'default/{pdf["path"]}')
    assert (got.type, got.inline) == ('application/pdf', False)


async def test_download_of_a_thumbnail(service, disk):
    [jpeg] = await service.upload(1, [upload(image())])
    location = f'default/{jpeg["path"]}'
    got = await service.download(location, 'thumb-middle')
    assert (got.path, got.type, got.inline) == (
        f'/cache/thumb-middle/{location}.jpg', 'image/jpeg', True)
    assert disk.made == [(location, 'thumb-middle')]


async def test_download_refuses_unknown_processes_and_thumbnails_of_non_images(service):
    [jpeg, pdf] = await service.upload(1, [upload(image()),
                                           upload(PDF, 'p.pdf', 'application/pdf')])
    with pytest.raises(InvalidParam) as error:
        await service.download(f'default/{jpeg["path"]}', 'thumb-giant')
    assert error.value.message.startswith('process:') and 'thumb-small' in error.value.message
    with pytest.raises(InvalidParam) as error:
        await service.download(f'default/{pdf["path"]}', 'thumb-small')
    assert error.value.message.startswith('process:')
    with pytest.raises(NotFound):
        await service.download('default/missing.jpg')
    with pytest.raises(NotFound):
        await service.download('default/missing.jpg', 'thumb-small')


@pytest.mark.parametrize('raw, clean', [
    ('photo.jpg', 'photo.jpg'),
    ('C:\\Users\\me\\photo.jpg', 'photo.jpg'),
    ('../../etc/passwd', 'passwd'),
    ('evil\u202egpj.exe', 'evilgpj.exe'),       # right-to-left override dropped
    ('tab\tand\x00nul.png', 'tabandnul.png'),
    ('cafe\u0301.jpg', 'caf\u00e9.jpg'),         # NFC, as iOS sends NFD
    ('', 'file'), (None, 'file'), ('/', 'file'),
    ('a' * 300 + '.jpeg', 'a' * 95 + '.jpeg'),
    ('a' * 300, 'a' * 100),
])
def test_clean_name(raw, clean):
    assert clean_name(raw) == clean


def test_human_size():
    assert [human_size(n) for n in (512, 2048, 50 * 2**20, 3 * 2**30)] == [
        '512 bytes', '2 KiB', '50 MiB', '3 GiB']


async def test_thumbnails_fit_their_box_upright_and_never_grow(tmp_path):
    media = MediaInspector(MAX_PIXELS)
    source = tmp_path / 'sideways.jpg'
    source.write_bytes(rotated_jpeg((900, 300), orientation=6))  # shown as 300 x 900
    small = tmp_path / 'small.png'
    small.write_bytes(image((50, 40), 'PNG', 'RGBA'))
    for bound in THUMB_BOUNDS.values():
        await media.thumbnail(str(source), str(tmp_path / 'thumb'), bound)
        with Image.open(tmp_path / 'thumb') as thumb:
            assert thumb.format == 'JPEG' and thumb.mode == 'RGB'
            expected = (round(300 * min(1, bound / 900)), min(900, bound))
            assert abs(thumb.width - expected[0]) <= 1 and thumb.height == expected[1]
        await media.thumbnail(str(small), str(tmp_path / 'thumb'), bound)
        with Image.open(tmp_path / 'thumb') as thumb:
            assert thumb.size == (50, 40) and thumb.format == 'JPEG'


def transparent_gif() -> bytes:
    buffer = io.BytesIO()
    picture = Image.new('P', (300, 200), 0)
    picture.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    picture.paste(1, (0, 0, 150, 200))
    picture.save(buffer, 'GIF', transparency=0)
    return buffer.getvalue()


@pytest.mark.parametrize('data', [
    image((300, 200), 'JPEG', 'CMYK'), image((300, 200), 'JPEG', 'L'),
    image((300, 200), 'PNG', 'LA'), image((300, 200), 'PNG', 'I;16'),
    image((300, 200), 'WEBP', 'RGBA'), image((300, 200), 'BMP', 'P'),
    transparent_gif(),
], ids=['cmyk jpeg', 'grey jpeg', 'grey png with alpha', '16-bit png', 'webp with alpha',
        'palette bmp', 'transparent gif'])
async def test_every_accepted_image_gets_a_plain_jpeg_thumbnail(tmp_path, data):
    media = MediaInspector(MAX_PIXELS)
    assert media.sniff(data)[0] in IMAGE_TYPES
    assert await media.image_size(data, 'x') == (300, 200)
    (tmp_path / 'source').write_bytes(data)
    await media.thumbnail(str(tmp_path / 'source'), str(tmp_path / 'thumb'), 128)
    with Image.open(tmp_path / 'thumb') as thumb:
        assert thumb.format == 'JPEG' and thumb.mode in ('RGB', 'L')
        assert thumb.size == (128, 85)


async def test_transparent_parts_of_a_thumbnail_are_white(tmp_path):
    (tmp_path / 'source').write_bytes(transparent_gif())
    await MediaInspector(MAX_PIXELS).thumbnail(str(tmp_path / 'source'),
                                               str(tmp_path / 'thumb'), 128)
    with Image.open(tmp_path / 'thumb') as thumb:
        red, white = thumb.getpixel((10, 40)), thumb.getpixel((118, 40))
    assert red[0] > 180 and red[1] < 40 and min(white) > 240
