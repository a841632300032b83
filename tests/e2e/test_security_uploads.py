"""Uploads as an attack surface: metadata (EXIF GPS...) stripped from images, which
stay upright and keep their quality and colour profile; only images and videos
accepted by default."""
import io
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from tests.support.clips import clip
from weiguan.config import upload_path
from weiguan.dependencies.media import MediaInspector
from weiguan.entities import messages
from weiguan.entities.errors import InvalidParam

from tests.support.servers import test_config as make_config
from tests.support import register

GPS = {ExifTags.GPS.GPSLatitudeRef: 'N', ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0),
       ExifTags.GPS.GPSLongitudeRef: 'E', ExifTags.GPS.GPSLongitude: (2.0, 17.0, 40.0)}
MP4 = clip('mp4-h264').data  # a real clip: videos are read with PyAV
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()


def camera_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = 'PhoneMaker'
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    return exif.tobytes()


def sideways_photo() -> Image.Image:
    """60 x 20 as stored, red on the left: upright (turned a quarter clockwise,
    EXIF orientation 6) it is 20 x 60, red at the top."""
    picture = Image.new('RGB', (60, 20), (0, 0, 255))
    picture.paste((255, 0, 0), (0, 0, 10, 20))
    return picture


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


def phone_jpeg() -> bytes:
    return encoded(sideways_photo(), 'JPEG', quality=75, exif=camera_exif(6),
                   xmp=b'<x:xmpmeta><City>Paris</City></x:xmpmeta>',
                   comment=b'at home', icc_profile=SRGB)


async def upload(client, name: str, data: bytes, type: str):
    return await client.post('/storage/upload',
                             files=[('files', (name, data, type))])


async def download(client, file: dict) -> bytes:
    response = await client.get('/files/' + file['url'].split('/files/', 1)[1])
    assert response.status_code == 200
    return response.content


def assert_no_metadata(image: Image.Image) -> None:
    assert not image.getexif(), dict(image.getexif())
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ('exif', 'xmp', 'comment', 'XML:com.adobe.xmp', 'Location'):
        assert key not in image.info, key


# --- end to end ---------------------------------------------------------------------

async def test_gps_and_other_metadata_are_gone_after_upload(client):
    await register(client)
    sent = phone_jpeg()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    answer = await upload(client, 'IMG_0001.jpg', sent, 'image/jpeg')
    [file] = answer.json()['data']['files']
    stored = await download(client, file)

    for secret in (b'PhoneMaker', b'Paris', b'at home'):
        assert secret not in stored
    image = Image.open(io.BytesIO(stored))
    assert_no_metadata(image)
    assert image.format == 'JPEG' and image.info.get('icc_profile') == SRGB
    # upright: no orientation tag left, the pixels turned instead
    assert image.size == (20, 60)
    assert (file['meta']['width'], file['meta']['height']) == (20, 60)
    red, green, blue = image.convert('RGB').getpixel((10, 3))
    assert red > 200 and blue < 60
    red, green, blue = image.convert('RGB').getpixel((10, 50))
    assert blue > 200 and red < 60
    assert file['meta']['size'] == len(stored) and file['meta']['type'] == 'image/jpeg'
    # the quality is the original's: the same quantization tables
    assert image.quantization == Image.open(io.BytesIO(sent)).quantization


async def test_images_without_metadata_are_stored_as_sent(client):
    await register(client)
    for name, data, type in (('a.jpg', encoded(sideways_photo(), 'JPEG'), 'image/jpeg'),
                             ('b.png', encoded(sideways_photo(), 'PNG'), 'image/png'),
                             ('c.gif', encoded(sideways_photo(), 'GIF'), 'image/gif')):
        [file] = (await upload(client, name, data, type)).json()['data']['files']
        assert await download(client, file) == data, name


async def test_png_text_chunks_and_exif_are_stripped_transparency_kept(client):
    await register(client)
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text('Location', 'Paris')
    chunks.add_itxt('XML:com.adobe.xmp', '<x:xmpmeta>Paris</x:xmpmeta>')
    picture = Image.new('RGBA', (30, 20), (255, 0, 0, 0))
    picture.paste((0, 255, 0, 255), (0, 0, 10, 10))
    sent = encoded(picture, 'PNG', pnginfo=chunks, exif=camera_exif())
    [file] = (await upload(client, 'a.png', sent, 'image/png')).json()['data']['files']
    stored = Image.open(io.BytesIO(await download(client, file)))
    stored.load()
    assert_no_metadata(stored)
    assert stored.mode == 'RGBA' and stored.getpixel((25, 15))[3] == 0
    assert stored.getpixel((5, 5)) == (0, 255, 0, 255)


async def test_webp_exif_is_stripped(client):
    await register(client)
    sent = encoded(sideways_photo(), 'WEBP', exif=camera_exif(6))
    [file] = (await upload(client, 'a.webp', sent, 'image/webp')).json()['data']['files']
    stored = Image.open(io.BytesIO(await download(client, file)))
    assert_no_metadata(stored)
    assert stored.size == (20, 60) == (file['meta']['width'], file['meta']['height'])


class TestStrippingOff:
    @pytest.fixture
    def config(self, tmp_path):
        return make_config(tmp_path, UPLOAD_STRIP_METADATA=False)

    async def test_images_are_kept_as_sent(self, client):
        await register(client)
        sent = phone_jpeg()
        [file] = (await upload(client, 'a.jpg', sent, 'image/jpeg')).json()['data']['files']
        assert await download(client, file) == sent
        assert (file['meta']['width'], file['meta']['height']) == (20, 60)


async def test_only_images_and_videos_are_accepted_by_default(client, config):
    await register(client)
    for name, data, type, sniffed in (
            ('paper.pdf', b'%PDF-1.4\n' + bytes(50), 'application/pdf', 'application/pdf'),
            ('page.html', b'<html><script>alert(1)</script></html>', 'text/html',
             'application/octet-stream'),
            ('song.mp3', b'ID3\x03\x00\x00\x00\x00\x00\x00' + bytes(100), 'audio/mpeg',
             'audio/mpeg')):
        response = await client.post('/storage/upload', files=[
            ('files', ('ok.jpg', encoded(sideways_photo(), 'JPEG'), 'image/jpeg')),
            ('files', (name, data, type))])
        body = response.json()
        assert (response.status_code, body['code']) == (400, 'invalid_param'), body
        assert body['message'] == messages.FILE_TYPE_NOT_ALLOWED.format(name=name,
                                                                         type=sniffed)
    assert not [path for path in Path(upload_path(config)).rglob('*') if path.is_file()]
    video = await upload(client, 'clip.mp4', MP4, 'video/mp4')
    assert video.json()['code'] == 'ok'


# --- the media inspector ---------------------------------------------------------------

@pytest.fixture
def media():
    return MediaInspector(max_pixels=1_000_000)


async def test_animations_are_kept_as_sent(media):
    frames = [Image.new('RGB', (8, 8), color) for color in ('red', 'blue')]
    for fmt in ('GIF', 'WEBP', 'PNG'):
        data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:])
        assert await media.without_metadata(data, 'anim') == (data, 8, 8), fmt


async def test_the_pixel_limit_and_broken_bytes_still_apply(media):
    big = encoded(Image.new('RGB', (2000, 1000)), 'PNG', exif=camera_exif())
    with pytest.raises(InvalidParam) as error:
        await media.without_metadata(big, 'big.png')
    assert error.value.message.startswith('files: big.png has more than')
    with pytest.raises(InvalidParam) as error:
        await media.without_metadata(phone_jpeg()[:200], 'cut.jpg')
    assert error.value.message == messages.IMAGE_UNREADABLE.format(name='cut.jpg')


async def test_cmyk_and_greyscale_jpegs_are_stripped_in_their_mode(media):
    for mode in ('CMYK', 'L'):
        data = encoded(Image.new(mode, (12, 8)), 'JPEG', exif=camera_exif())
        stripped, width, height = await media.without_metadata(data, 'a.jpg')
        image = Image.open(io.BytesIO(stripped))
        assert (image.mode, image.size, (width, height)) == (mode, (12, 8), (12, 8))
        assert_no_metadata(image)


@pytest.mark.parametrize('trailer', [b'PK\x03\x04' + b'\x00' * 64 + b'payload.exe',
                                     b'<html><script>alert(1)</script></html>'])
async def test_data_after_a_jpeg_end_marker_is_not_stored(client, trailer):
    """A JPEG carrying a zip or a page after its end marker (a polyglot) is stored
    cut at the marker: the picture, and nothing riding along."""
    await register(client)
    picture = encoded(sideways_photo(), 'JPEG', quality=90, progressive=True)
    for data in (picture, phone_jpeg()):
        [file] = (await upload(client, 'p.jpg', data + trailer, 'image/jpeg')
                  ).json()['data']['files']
        stored = await download(client, file)
        assert trailer not in stored
        assert stored.endswith(b'\xff\xd9')
        Image.open(io.BytesIO(stored)).load()
    [file] = (await upload(client, 'q.jpg', picture + trailer, 'image/jpeg')
              ).json()['data']['files']
    assert await download(client, file) == picture  # no metadata: the sent image
