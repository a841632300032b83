"""WebSocket helpers: connect with a logged-in client's session cookie."""
import asyncio

import httpx
import orjson
import websockets


def connect(server, client: httpx.AsyncClient | None = None):
    url = server.url.replace('http://', 'ws://') + '/message/ws'
    headers = {}
    if client is not None:
        headers['Cookie'] = '; '.join(f'{k}={v}' for k, v in client.cookies.items())
    return websockets.connect(url, additional_headers=headers, open_timeout=5)


async def receive(ws, timeout: float = 5) -> dict:
    return orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
