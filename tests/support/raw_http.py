"""Raw HTTP/1.1 over a socket, for what httpx will not send (a Content-Length with
no body behind it, Expect: 100-continue, dribbled headers, huge request lines)."""
import asyncio
from urllib.parse import urlsplit

import orjson


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


async def open_raw(url: str):
    return await asyncio.open_connection(*address(url))


async def read_response(reader: asyncio.StreamReader, timeout: float = 10):
    """(status, headers, body bytes) of one response; an interim 100 is returned as
    a response of its own."""
    head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), timeout)
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split(' ')[1])
    headers = {}
    for line in lines[1:]:
        if ':' in line:
            name, value = line.split(':', 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get('content-length', 0))
    body = await asyncio.wait_for(reader.readexactly(length), timeout) if length else b''
    return status, headers, body


def envelope(body: bytes) -> dict:
    data = orjson.loads(body)
    assert set(data) == {'code', 'message', 'data'}, data
    return data


async def closed(reader: asyncio.StreamReader, timeout: float = 5) -> bool:
    """Whether the server closes the connection (EOF or reset) within `timeout`."""
    try:
        return await asyncio.wait_for(reader.read(65536), timeout) == b''
    except (ConnectionResetError, BrokenPipeError):
        return True
    except asyncio.TimeoutError:
        return False
