"""The response class of every envelope answer: Sanic's HTTPResponse, with the
encoding of its headers memoized.

Sanic strips CR, LF and NUL from every header name and value (str.translate) and
encodes them on every response. An answer here carries about ten headers, nearly
all of them the same on every response (the security headers, content type, the
session cookie's name aside), and that work was a fifth of the CPU of /health
(bench/http_bench.py --profile). The same sanitizing and encoding is done once per
distinct (name, value) pair. Set-Cookie and X-Request-ID are unique per response:
memoized, they would only push the others out of the cache; the cookie is
sanitized as Sanic does, the request id needs no sanitizing (below)."""
from functools import lru_cache

from sanic import HTTPResponse
from sanic.helpers import has_message_body

_sanitize = HTTPResponse._sanitize_header_value
# X-Request-ID is safe by construction (web/observe.py: a fresh hex id, or the
# client's when it is 1 to 128 characters of [A-Za-z0-9._:@=+-]): encoded as it is.
REQUEST_ID = 'x-request-id'


@lru_cache(maxsize=64)
def _encoded_name(name: str) -> bytes:
    return _sanitize(name).encode('ascii')


@lru_cache(maxsize=1024)
def _encoded(name: str, value: str) -> tuple[bytes, bytes]:
    return _encoded_name(name), _sanitize(value).encode(errors='surrogateescape')


class EnvelopeResponse(HTTPResponse):
    __slots__ = ()

    @property
    def processed_headers(self):
        if has_message_body(self.status):
            self.headers.setdefault('content-type', self.content_type)
        for name, value in self.headers.items():
            lowered = name.lower()
            if lowered == REQUEST_ID:
                yield _encoded_name(name), value.encode('ascii')
            elif lowered == 'set-cookie':
                yield (_encoded_name(name),
                       _sanitize(f'{value}').encode(errors='surrogateescape'))
            else:
                yield _encoded(name, f'{value}')
