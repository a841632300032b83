"""The response class of every envelope answer: Sanic's HTTPResponse, with the
encoding of its headers memoized.

Sanic strips CR, LF and NUL from every header name and value (str.translate) and
encodes them on every response. An answer here carries about ten headers, nearly
all of them the same on every response (the security headers, content type, the
session cookie's name aside), and that work was a fifth of the CPU of /health
(bench/http_bench.py --profile). The same sanitizing and encoding is done once per
distinct (name, value) pair; Set-Cookie and X-Request-ID, unique per response, are
encoded as before (memoized, they would only push the others out of the cache)."""
from functools import lru_cache

from sanic import HTTPResponse
from sanic.helpers import has_message_body

_sanitize = HTTPResponse._sanitize_header_value
UNIQUE_HEADERS = frozenset({'set-cookie', 'x-request-id'})


@lru_cache(maxsize=1024)
def _encoded(name: str, value: str) -> tuple[bytes, bytes]:
    return (_sanitize(name).encode('ascii'),
            _sanitize(value).encode(errors='surrogateescape'))


class EnvelopeResponse(HTTPResponse):
    __slots__ = ()

    @property
    def processed_headers(self):
        if has_message_body(self.status):
            self.headers.setdefault('content-type', self.content_type)
        for name, value in self.headers.items():
            if name.lower() in UNIQUE_HEADERS:
                yield (_sanitize(name).encode('ascii'),
                       _sanitize(f'{value}').encode(errors='surrogateescape'))
            else:
                yield _encoded(name, f'{value}')
