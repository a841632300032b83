"""What a file really is, read from its bytes (never from the client's word), and the
Pillow work on images: their size at upload, their metadata removed, thumbnails on
demand.

Decoding is CPU work on untrusted bytes: it runs in a worker thread so the event
loop keeps serving, and an image's pixel count is checked from its header before
any pixel is decoded (decompression bombs)."""
import asyncio
import io
from contextlib import contextmanager

import filetype
from PIL import ExifTags, Image, ImageOps, JpegImagePlugin

from ..entities import messages
from ..entities.errors import InvalidParam

UNKNOWN_TYPE = 'application/octet-stream'
UNKNOWN_EXTENSION = 'bin'
THUMB_QUALITY = 85
# EXIF orientations that turn the picture a quarter: width and height swap on screen
QUARTER_TURNS = {5, 6, 7, 8}
# What Pillow reports of an image that says nothing about who took it, where or how.
PLAIN_INFO = frozenset({'jfif', 'jfif_version', 'jfif_unit', 'jfif_density', 'dpi',
                        'adobe', 'adobe_transform', 'progressive', 'progression',
                        'icc_profile', 'gamma', 'transparency', 'srgb', 'chromaticity',
                        'aspect', 'loop', 'background', 'duration', 'timestamp'})
PLAIN_SEGMENTS = (('APP0', b'JFIF'), ('APP0', b'JFXX'), ('APP2', b'ICC_PROFILE'),
                  ('APP14', b'Adobe'))
STRIPPED_FORMATS = {'JPEG': 'JPEG', 'MPO': 'JPEG', 'PNG': 'PNG', 'WEBP': 'WEBP'}
WEBP_QUALITY = 90


class MediaInspector:
    thumb_type = 'image/jpeg'  # what `thumbnail` writes
    thumb_suffix = '.jpg'

    def __init__(self, max_pixels: int):
        self.max_pixels = max_pixels

    @staticmethod
    def sniff(data: bytes) -> tuple[str, str]:
        """(MIME type, file extension) from the magic bytes; unknown content is
        application/octet-stream with the extension 'bin'."""
        kind = filetype.guess(data[:8192])
        return (kind.mime, kind.extension) if kind else (UNKNOWN_TYPE, UNKNOWN_EXTENSION)

    @staticmethod
    def content_type(extension: str) -> str:
        """The MIME type of a stored file's extension (which `sniff` chose)."""
        kind = filetype.get_type(ext=extension.lower())
        return kind.mime if kind else UNKNOWN_TYPE

    async def image_size(self, data: bytes, name: str) -> tuple[int, int]:
        """(width, height) as shown on screen; InvalidParam when the bytes do not
        decode or hold more than `max_pixels` pixels."""
        return await asyncio.to_thread(self._image_size, data, name)

    def _image_size(self, data: bytes, name: str) -> tuple[int, int]:
        with self._opened(data, name) as image:
            return _shown_size(image)

    async def without_trailer(self, data: bytes) -> bytes:
        """A JPEG cut after the end marker of its (first) image. Whatever follows
        it is no part of the picture: a zip or an HTML page riding along (a
        polyglot file), or a phone's extras (a motion clip, MPF pictures).
        Stripped rather than refused, so those phones' photos still upload."""
        return await asyncio.to_thread(_without_trailer, data)

    async def without_metadata(self, data: bytes, name: str) -> tuple[bytes, int, int]:
        """(bytes, width, height) of the image as it will be stored: a JPEG, PNG or
        WebP still that carries metadata (EXIF, with the GPS position phones write;
        XMP; comments; text chunks) re-encoded without it and turned upright, the
        colour profile kept; any other image unchanged. JPEGs keep their own
        quantization tables, so the quality stays what it was. Animations are kept
        as sent (re-encoding every frame costs too much for what they carry). The
        same checks as `image_size`."""
        return await asyncio.to_thread(self._without_metadata, data, name)

    def _without_metadata(self, data: bytes, name: str) -> tuple[bytes, int, int]:
        with self._opened(data, name) as image:
            target = STRIPPED_FORMATS.get(image.format)
            still = image.format == 'MPO' or getattr(image, 'n_frames', 1) == 1
            if target is None or not still or not _has_metadata(image):
                return (data, *_shown_size(image))
            return _reencoded(image, target)

    @contextmanager
    def _opened(self, data: bytes, name: str):
        """The image, once its header shows at most `max_pixels` pixels; whatever
        goes wrong decoding it becomes InvalidParam naming the file."""
        too_large = InvalidParam(messages.IMAGE_TOO_MANY_PIXELS.format(
            name=name, limit=f'{self.max_pixels:,}'))
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > self.max_pixels:
                    raise too_large
                yield image
        except InvalidParam:
            raise
        except Image.DecompressionBombError:
            raise too_large from None
        except Exception:  # a decoder fed hostile bytes can raise almost anything
            raise InvalidParam(messages.IMAGE_UNREADABLE.format(name=name)) from None

    async def thumbnail(self, source: str, target: str, bound: int) -> None:
        """Write to `target` a JPEG of `source` fitting a bound x bound box, turned
        upright; never larger than the original."""
        await asyncio.to_thread(_thumbnail, source, target, bound)


def _jpeg_length(data: bytes) -> int | None:
    """Bytes up to and including the EOI marker that ends the first image, by its
    segments (an EXIF thumbnail's own markers sit inside its APP1 segment and are
    skipped with it); None when the markers do not add up."""
    size, at = len(data), 2
    while at + 4 <= size:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker == 0xD9:  # EOI
            return at + 2
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
        else:
            at += 2 + int.from_bytes(data[at + 2:at + 4], 'big')
            while marker == 0xDA:  # entropy-coded data up to the next real marker
                at = data.find(b'\xff', at)
                if at < 0 or at + 1 >= size:
                    return None
                following = data[at + 1]
                if following != 0 and not 0xD0 <= following <= 0xD7:
                    break
                at += 2
    return None


def _without_trailer(data: bytes) -> bytes:
    if not data.startswith(b'\xff\xd8'):
        return data
    length = _jpeg_length(data)
    return data[:length] if length is not None else data


def _shown_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) on screen, once every byte has decoded."""
    width, height = image.size
    # JPEG decodes at 1/8 scale: every byte is still read, far less memory
    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    return (height, width) if orientation in QUARTER_TURNS else (width, height)


def _has_metadata(image: Image.Image) -> bool:
    if set(image.info) - PLAIN_INFO:
        return True
    return any(not any(marker == plain and payload.startswith(prefix)
                       for plain, prefix in PLAIN_SEGMENTS)
               for marker, payload in getattr(image, 'applist', ()))


def _reencoded(image: Image.Image, target: str) -> tuple[bytes, int, int]:
    image.load()
    upright = ImageOps.exif_transpose(image)  # a copy, the orientation applied
    upright.info = {}  # Pillow would write some of it (comments) back
    options = {}
    if image.info.get('icc_profile'):
        options['icc_profile'] = image.info['icc_profile']
    if target == 'JPEG':
        options['qtables'] = image.quantization
        sampling = JpegImagePlugin.get_sampling(image)
        if sampling != -1:
            options['subsampling'] = sampling
    elif target == 'PNG':
        if 'transparency' in image.info:
            options['transparency'] = image.info['transparency']
    else:
        options['quality'] = WEBP_QUALITY
    buffer = io.BytesIO()
    upright.save(buffer, target, **options)
    return (buffer.getvalue(), *upright.size)


def _thumbnail(source: str, target: str, bound: int) -> None:
    with Image.open(source) as original:
        original.draft('RGB', (bound, bound))  # JPEG: decode at the smallest scale that fits
        image = ImageOps.exif_transpose(original)
        if image.mode not in ('RGB', 'RGBA', 'L', 'LA'):  # palette, CMYK, 16-bit...
            image = image.convert('RGBA' if image.has_transparency_data else 'RGB')
        image.thumbnail((bound, bound), Image.Resampling.LANCZOS)
        if image.has_transparency_data:  # JPEG has no alpha: lay it on white
            rgba = image.convert('RGBA')
            image = Image.new('RGB', rgba.size, 'white')
            image.paste(rgba, mask=rgba.getchannel('A'))
        image.save(target, 'JPEG', quality=THUMB_QUALITY, optimize=True)
