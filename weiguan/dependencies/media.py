"""What a file really is, read from its bytes (never from the client's word), and the
Pillow work on images: their size at upload, thumbnails on demand.

Decoding is CPU work on untrusted bytes: it runs in a worker thread so the event
loop keeps serving, and an image's pixel count is checked from its header before
any pixel is decoded (decompression bombs)."""
import asyncio
import io

import filetype
from PIL import ExifTags, Image, ImageOps

from ..entities import messages
from ..entities.errors import InvalidParam

UNKNOWN_TYPE = 'application/octet-stream'
UNKNOWN_EXTENSION = 'bin'
THUMB_QUALITY = 85
# EXIF orientations that turn the picture a quarter: width and height swap on screen
QUARTER_TURNS = {5, 6, 7, 8}


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
        too_large = InvalidParam(messages.IMAGE_TOO_MANY_PIXELS.format(
            name=name, limit=f'{self.max_pixels:,}'))
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > self.max_pixels:
                    raise too_large
                # JPEG decodes at 1/8 scale: every byte is still read, far less memory
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()
                orientation = image.getexif().get(ExifTags.Base.Orientation)
        except InvalidParam:
            raise
        except Image.DecompressionBombError:
            raise too_large from None
        except Exception:  # a decoder fed hostile bytes can raise almost anything
            raise InvalidParam(messages.IMAGE_UNREADABLE.format(name=name)) from None
        return (height, width) if orientation in QUARTER_TURNS else (width, height)

    async def thumbnail(self, source: str, target: str, bound: int) -> None:
        """Write to `target` a JPEG of `source` fitting a bound x bound box, turned
        upright; never larger than the original."""
        await asyncio.to_thread(_thumbnail, source, target, bound)


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
