"""Uploads and downloads: what is accepted, how it is named, what is served how.

What is accepted (the type is always sniffed from the bytes):
- images: JPEG, PNG, GIF, WebP and BMP. They must decode and hold at most
  IMAGE_MAX_PIXELS pixels; meta width and height are as shown on screen (EXIF
  orientation applied). Other image formats (HEIC, TIFF, ICO, ...) are refused:
  neither the app nor browsers can show them. With strip_metadata (the default
  config) a JPEG, PNG or WebP still that carries metadata (EXIF with its GPS
  position, XMP, comments, text chunks) is re-encoded without it, turned upright.
- videos: every video format the `filetype` package knows (MP4, MOV, WebM, MKV, AVI,
  3GP, ...) that FFmpeg opens with a video stream whose first frame decodes, within
  VIDEO_PROBE_TIMEOUT; meta width and height are as shown (the display matrix's
  rotation applied), duration in whole seconds (0 where the file does not say).
  Bytes that only look like a video (a header before anything else) are refused.
- anything else (audio, PDF, archives, unrecognised bytes as
  application/octet-stream): refused, unless allow_other_types (off by default: the
  app's files are avatars, images and videos, and a server that keeps any file for
  anyone becomes a free file host); then stored, and served as a download.
Refused as well: empty files, files over UPLOAD_FILE_MAX_SIZE (413), more than
UPLOAD_FILE_MAX_NUMBER files, a file the client declared as image/* or video/*
whose bytes are not of that kind, and uploads over the user's rate limit (429).

Stored names are generated: '<bucket>/<path>/<32 hex digits>.<extension of the sniffed
type>', so a client's file name never reaches the disk (it is kept, cleaned, in
meta.name). One upload is all or nothing: every file is checked before the first is
written, and the rows are inserted in one transaction after the writes.

Serving: images, videos and audio inline; everything else as an attachment.
Thumbnails (`process=thumb-<size>`) are JPEGs fitting a square box of small 128,
middle 320, large 640 or huge 1280 pixels, never enlarged; made on first request and
cached under DATA_PATH/THUMB_DIR.
"""
import asyncio
import os
import secrets
import unicodedata
from dataclasses import dataclass

from ..entities import messages
from ..entities.errors import InvalidParam, NotFound, PayloadTooLarge
from .ports import Disk, FileRepository, MediaInspector, VideoProbe
from .rate_limits import NO_LIMITS, NoLimits, RateLimiter
from .file_links import FileLinks, THUMB_BOUNDS, THUMB_SIZES, thumb_process
from .ports import Row

IMAGE_TYPES = frozenset({'image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp'})
CHECKED_KINDS = ('image', 'video')  # a client declaring these must send that kind
INLINE_KINDS = ('image', 'video', 'audio')
NAME_MAX_LENGTH = 100
THUMB_PROCESSES = {thumb_process(size): size for size in THUMB_SIZES}


@dataclass(frozen=True)
class Upload:
    name: str   # as the client sent it
    type: str   # the client's content type: checked against the bytes, never stored
    body: bytes


@dataclass(frozen=True)
class Download:
    path: str   # on the local disk
    type: str
    inline: bool


@dataclass(frozen=True)
class _Checked:
    location: str
    path: str
    meta: Row
    body: bytes


def clean_name(name: str | None) -> str:
    """The client's file name fit for display: no folders, no control or bidi
    characters, at most NAME_MAX_LENGTH characters (keeping a short extension)."""
    name = unicodedata.normalize('NFC', name or '').replace('\\', '/').rsplit('/', 1)[-1]
    name = ''.join(c for c in name if unicodedata.category(c)[0] != 'C').strip()
    if len(name) > NAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition('.')
        if dot and stem and len(extension) <= 16:
            name = stem[:NAME_MAX_LENGTH - len(extension) - 1].rstrip() + '.' + extension
        else:
            name = name[:NAME_MAX_LENGTH]
    return name or 'file'


def human_size(size: int) -> str:
    for unit, scale in (('GiB', 2**30), ('MiB', 2**20), ('KiB', 2**10)):
        if size >= scale:
            return f'{size / scale:.3g} {unit}'
    return f'{size} bytes'


def _kind(mime: str) -> str:
    return mime.split(';', 1)[0].strip().lower().split('/', 1)[0]


class StorageService:
    def __init__(self, files: FileRepository, disk: Disk, media: MediaInspector,
                 video: VideoProbe, links: FileLinks, max_size: int, max_number: int,
                 allow_other_types: bool = False, strip_metadata: bool = False,
                 limits: RateLimiter | NoLimits = NO_LIMITS):
        self.files = files
        self.disk = disk
        self.media = media
        self.video = video  # a VideoProbe
        self.links = links
        self.max_size = max_size
        self.max_number = max_number
        self.allow_other_types = allow_other_types
        self.strip_metadata = strip_metadata
        self.limits = limits  # NoLimits in unit tests of other rules

    async def upload(self, user_id: int, uploads: list[Upload], region: str = 'local',
                     bucket: str = 'default', path: str = '') -> list[Row]:
        """Store the files; return them as File entities, in the order sent."""
        await self.limits.upload(user_id)
        if not 1 <= len(uploads) <= self.max_number:
            raise InvalidParam(messages.FILES_COUNT.format(max=self.max_number))
        checked = [await self._check(upload, bucket, path) for upload in uploads]
        rows = [{'user_id': user_id, 'region': region, 'bucket': bucket,
                 'path': item.path, 'meta': item.meta} for item in checked]
        # Past this point a client hanging up must not leave files without rows.
        stored = await asyncio.shield(self._store(checked, rows))
        return [self.links.present(row) for row in stored]

    async def _check(self, upload: Upload, bucket: str, path: str) -> _Checked:
        name = clean_name(upload.name)
        size = len(upload.body)
        if size == 0:
            raise InvalidParam(messages.FILE_EMPTY.format(name=name))
        if size > self.max_size:
            raise PayloadTooLarge(messages.FILE_TOO_LARGE.format(
                name=name, limit=human_size(self.max_size)))
        mime, extension = self.media.sniff(upload.body)
        declared = _kind(upload.type or '')
        if declared in CHECKED_KINDS and declared != _kind(mime):
            raise InvalidParam(messages.FILE_TYPE_MISMATCH.format(
                name=name, declared=upload.type.split(';', 1)[0].strip()[:64]))
        if _kind(mime) not in CHECKED_KINDS and not self.allow_other_types:
            raise InvalidParam(messages.FILE_TYPE_NOT_ALLOWED.format(name=name, type=mime))
        body, width, height, duration = upload.body, 0, 0, 0
        if mime == 'image/jpeg':
            body = await self.media.without_trailer(body)
        if _kind(mime) == 'video':
            width, height, duration = await self.video.meta(body, name)
        elif _kind(mime) == 'image':
            if mime not in IMAGE_TYPES:
                raise InvalidParam(messages.IMAGE_TYPE_UNSUPPORTED.format(name=name,
                                                                          type=mime))
            if self.strip_metadata:
                body, width, height = await self.media.without_metadata(body, name)
            else:
                width, height = await self.media.image_size(body, name)
        stored_path = f'{path}/' if path else ''
        stored_path += f'{secrets.token_hex(16)}.{extension}'
        meta = {'name': name, 'size': len(body), 'type': mime, 'width': width,
                'height': height, 'duration': duration}
        return _Checked(f'{bucket}/{stored_path}', stored_path, meta, body)

    async def _store(self, checked: list[_Checked], rows: list[Row]) -> list[Row]:
        locations = [item.location for item in checked]
        await self.disk.write({item.location: item.body for item in checked})
        try:
            return await self.files.create_many(rows)
        except BaseException:
            self.disk.discard(locations)
            raise

    async def info(self, file_id: int) -> Row:
        file = await self.files.get(file_id)
        if file is None:
            raise NotFound(messages.FILE_NOT_FOUND)
        return self.links.present(file)

    async def download(self, location: str, process: str | None = None) -> Download:
        """The file at 'bucket/path' (or its thumbnail) and how to serve it."""
        size = None
        if process is not None:
            size = THUMB_PROCESSES.get(process)
            if size is None:
                raise InvalidParam(messages.PROCESS_UNKNOWN.format(
                    choices=', '.join(THUMB_PROCESSES)))
        source = self.disk.find(location)
        if source is None:
            raise NotFound(messages.FILE_NOT_FOUND)
        mime = self.media.content_type(os.path.splitext(source)[1].lstrip('.'))
        if size is None:
            return Download(source, mime, inline=_kind(mime) in INLINE_KINDS)
        if mime not in IMAGE_TYPES:
            raise InvalidParam(messages.PROCESS_NOT_IMAGE)
        bound = THUMB_BOUNDS[size]

        async def make(source_path: str, target_path: str) -> None:
            await self.media.thumbnail(source_path, target_path, bound)
        thumb = await self.disk.derived(location, thumb_process(size),
                                        self.media.thumb_suffix, make)
        if thumb is None:  # removed meanwhile
            raise NotFound(messages.FILE_NOT_FOUND)
        return Download(thumb, self.media.thumb_type, inline=True)
