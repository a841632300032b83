"""Multipart bodies read as they arrive, never whole in memory.

The upload route is a streaming route (web/body_limits.py): Sanic hands it the
request before the body is read. The body is fed chunk by chunk to
python-multipart's parser (the one Starlette uses); each file part is spooled to a
temporary file (in memory up to SPOOL_SIZE, on disk beyond), and read back, in a
thread, once the body has ended. A 95 MB upload so costs one copy of its files
instead of the four Sanic's whole-body read and split made (the body, the list of
its chunks, the parts cut from it, the file bytes), and the event loop only ever
handles one network chunk at a time.

The form is parsed once per request and kept on `request.ctx.form`: the
idempotency digest and the handler read the same parts. Part headers are read
with Sanic's header parser, as before (RFC 2231 `filename*` included)."""
import asyncio
import logging
import unicodedata
from email.utils import decode_rfc2231
from tempfile import SpooledTemporaryFile
from urllib.parse import unquote

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from sanic import Request
from sanic.headers import parse_content_header
from sanic.request.form import File
from sanic.request.parameters import RequestParameters

from ..entities import messages
from ..entities.errors import InvalidParam

SPOOL_SIZE = 1024 * 1024  # a file part beyond this goes to a temporary file
FIELD_MAX_SIZE = 64 * 1024  # a form field (region, bucket, path) is a short text
# The parser logs a WARNING for each malformed body it meets: a client's mistake,
# answered here with a 400 naming it, not a server problem.
logging.getLogger('python_multipart').setLevel(logging.ERROR)


class _Part:
    __slots__ = ('headers', 'name', 'filename', 'type', 'charset', 'data', 'spool')

    def __init__(self):
        self.headers: list[tuple[bytes, bytes]] = []
        self.name = self.filename = None
        self.type, self.charset = 'text/plain', 'utf-8'
        self.data = bytearray()
        self.spool: SpooledTemporaryFile | None = None

    def read_headers(self) -> None:
        try:
            for field, value in self.headers:
                field_name = field.decode('utf-8').lower()
                header_value, parameters = parse_content_header(value.decode('utf-8'))
                if field_name == 'content-disposition':
                    self.name = parameters.get('name')
                    self.filename = parameters.get('filename')
                    if self.filename is None and parameters.get('filename*'):
                        encoding, _, quoted = decode_rfc2231(parameters['filename*'])
                        self.filename = unquote(quoted, encoding=encoding or 'utf-8')
                    if self.filename is not None:  # iOS and macOS send NFD
                        self.filename = unicodedata.normalize('NFC', self.filename)
                elif field_name == 'content-type':
                    self.type = header_value
                    self.charset = parameters.get('charset', 'utf-8')
        except (UnicodeError, LookupError):
            raise InvalidParam(messages.MULTIPART_NOT_UTF8) from None
        if self.filename is not None:
            self.spool = SpooledTemporaryFile(max_size=SPOOL_SIZE)

    def write(self, data: bytes) -> None:
        if self.spool is not None:
            self.spool.write(data)
            return
        self.data += data
        if len(self.data) > FIELD_MAX_SIZE:
            raise InvalidParam(messages.MULTIPART_FIELD_TOO_LONG.format(
                name=str(self.name or '')[:64], limit=FIELD_MAX_SIZE))


class _Form:
    """python-multipart's callbacks, collecting the parts."""

    def __init__(self):
        self.parts: list[_Part] = []  # those whose closing boundary arrived
        self.part: _Part | None = None
        self.ended = False
        self.field = bytearray()
        self.value = bytearray()

    def callbacks(self) -> dict:
        return {
            'on_part_begin': self._begin,
            'on_header_field': lambda data, start, end: self.field.extend(data[start:end]),
            'on_header_value': lambda data, start, end: self.value.extend(data[start:end]),
            'on_header_end': self._header_end,
            'on_headers_finished': lambda: self.part.read_headers(),
            'on_part_data': lambda data, start, end: self.part.write(data[start:end]),
            'on_part_end': lambda: self.parts.append(self.part),
            'on_end': self._end,
        }

    def _begin(self) -> None:
        self.close_part()
        self.part = _Part()

    def _end(self) -> None:
        self.ended = True

    def _header_end(self) -> None:
        self.part.headers.append((bytes(self.field), bytes(self.value)))
        self.field.clear()
        self.value.clear()

    def close_part(self) -> None:
        """The temporary file of a part cut off before its closing boundary."""
        if self.part is not None and self.part not in self.parts and self.part.spool:
            self.part.spool.close()

    def close(self) -> None:
        self.close_part()
        for part in self.parts:
            if part.spool is not None:
                part.spool.close()


def _boundary(request: Request) -> bytes | None:
    content_type, parameters = parse_content_header(request.headers.get('content-type', ''))
    if content_type != 'multipart/form-data':
        return None
    boundary = parameters.get('boundary')
    if not boundary:
        raise InvalidParam(messages.MULTIPART_NO_BOUNDARY)
    try:
        return str(boundary).encode('utf-8')
    except UnicodeError:
        raise InvalidParam(messages.MULTIPART_NOT_UTF8) from None


def _read_back(parts: list[_Part]) -> tuple[RequestParameters, RequestParameters]:
    """The fields and files as Sanic's parser gave them (runs in a thread)."""
    fields: dict[str, list[str]] = {}
    files: dict[str, list[File]] = {}
    for part in parts:
        if not part.name:
            continue  # a part without a name carries nothing a handler reads
        if part.spool is None:
            try:
                fields.setdefault(part.name, []).append(part.data.decode(part.charset))
            except (UnicodeError, LookupError):
                raise InvalidParam(messages.MULTIPART_NOT_UTF8) from None
        else:
            part.spool.seek(0)
            files.setdefault(part.name, []).append(
                File(type=part.type, body=part.spool.read(), name=part.filename))
    return RequestParameters(fields), RequestParameters(files)


async def multipart(request: Request) -> tuple[RequestParameters, RequestParameters]:
    """The form fields and files of the request's multipart body (read now, once).
    Not multipart: no fields and no files (the service then says what is missing)."""
    form = getattr(request.ctx, 'form', None)
    if form is not None:
        return form
    boundary = _boundary(request)
    if boundary is None:
        request.ctx.form = (RequestParameters(), RequestParameters())
        return request.ctx.form
    collected = _Form()
    parser = MultipartParser(boundary, collected.callbacks())
    try:
        if request.body:  # read already (a route that does not stream)
            parser.write(request.body)
        while (chunk := await request.stream.read()) is not None:
            parser.write(chunk)
        parser.finalize()
        if not collected.ended:  # cut off before the closing boundary
            raise InvalidParam(messages.MULTIPART_MALFORMED)
        request.ctx.form = await asyncio.to_thread(_read_back, collected.parts)
    except MultipartParseError:
        raise InvalidParam(messages.MULTIPART_MALFORMED) from None
    finally:
        collected.close()
    return request.ctx.form
