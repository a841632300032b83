"""GET /files/<bucket>/<path...>: the stored bytes, or a thumbnail with
?process=thumb-<size>. No login and no session: the URLs are unguessable and the
app shows them to everyone who may see the post or the user."""
import os
from email.utils import formatdate

from dependency_injector.wiring import Provide
from sanic import Blueprint, HTTPResponse, Request
from sanic.compat import stat_async
from sanic.exceptions import HeaderNotFound
from sanic.handlers import ContentRangeHandler
from sanic.response import file, file_stream
from sanic.response.convenience import validate_file

from ...container import Container
from ...entities import inputs
from ...services.storage import Download, StorageService
from ..openapi import documented

files = Blueprint('files', url_prefix='/files')
# Its service, set by container.wire() at start (web/app.py).
storage: StorageService = Provide[Container.storage_service]

process_query = inputs.ProcessQuery()
STREAM_FROM = 1024 * 1024  # larger files are streamed, not read into memory
CHUNK_SIZE = 256 * 1024
IMMUTABLE = 'public, max-age=31536000, immutable'  # names are never reused
_BYTES = {'*/*': {'schema': {'type': 'string', 'format': 'binary'}}}
DOWNLOAD_RESPONSES = {
    '200': {'description': 'The bytes; images and videos inline, others as attachment.',
            'content': _BYTES},
    '206': {'description': 'The requested byte range.', 'content': _BYTES},
    '304': {'description': 'Not modified since If-Modified-Since.'}}
DOWNLOAD_PARAMETERS = [
    {'in': 'path', 'name': 'bucket', 'required': True, 'schema': {'type': 'string'},
     'description': 'The bucket of the file.'},
    {'in': 'path', 'name': 'path', 'required': True, 'schema': {'type': 'string'},
     'description': 'The rest of its url: the path prefix (may hold `/`) and the name.'},
    {'in': 'header', 'name': 'Range', 'schema': {'type': 'string'},
     'description': 'A byte range, e.g. `bytes=0-1023` (video players seek with it).'},
    {'in': 'header', 'name': 'If-Modified-Since', 'schema': {'type': 'string'},
     'description': 'An HTTP date; 304 when the file is not newer.'}]


@files.get('/<location:path>', ctx_no_session=True)
@documented('The bytes of a file (its `url`), or a thumbnail of an image.',
            query=process_query, errors=(404,), responses=DOWNLOAD_RESPONSES,
            parameters=DOWNLOAD_PARAMETERS, path='/files/{bucket}/{path}')
async def download(request: Request, location: str, data: dict):
    found = await storage.download(location, data['process'])
    return await send(request, found)


def _byte_range(request: Request, stats: os.stat_result) -> ContentRangeHandler | None:
    """The requested byte range (video players seek with them), clipped to the file:
    a suffix longer than the file is the whole file (Sanic would seek before its
    start), an end past it the last byte."""
    try:
        byte_range = ContentRangeHandler(request, stats)
    except HeaderNotFound:
        return None
    byte_range.start = max(0, byte_range.start)
    byte_range.end = min(byte_range.end, byte_range.total - 1)
    byte_range.size = byte_range.end - byte_range.start + 1
    return byte_range


async def send(request: Request, found: Download) -> HTTPResponse:
    stats = await stat_async(found.path)
    headers = {'X-Content-Type-Options': 'nosniff', 'Accept-Ranges': 'bytes',
               'cache-control': IMMUTABLE,  # lower case: sanic's file() sets it else
               'Last-Modified': formatdate(stats.st_mtime, usegmt=True)}
    if not found.inline:  # never rendered by a browser on our origin
        name = os.path.basename(found.path)
        headers['Content-Disposition'] = f'attachment; filename="{name}"'
    not_modified = await validate_file(request.headers, stats.st_mtime)
    if not_modified is not None:
        not_modified.headers.update(headers)
        return not_modified
    byte_range = _byte_range(request, stats)
    if stats.st_size >= STREAM_FROM:
        return await file_stream(found.path, mime_type=found.type, headers=headers,
                                 chunk_size=CHUNK_SIZE, _range=byte_range)
    return await file(found.path, mime_type=found.type, headers=headers,
                      last_modified=None, _range=byte_range)
