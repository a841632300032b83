"""Helpers for end-to-end tests."""
import httpx

PASSWORD = 'secret123'


async def call(client: httpx.AsyncClient, method: str, path: str, **kwargs) -> dict:
    """The envelope of one request (GET params or POST JSON)."""
    if method == 'GET':
        response = await client.get(path, params=kwargs or None)
    else:
        response = await client.post(path, json=kwargs)
    body = response.json()
    assert set(body) == {'code', 'message', 'data'}, body
    body['status'] = response.status_code
    return body


async def register(client: httpx.AsyncClient, username: str = 'alice',
                   password: str = PASSWORD) -> dict:
    """Register (and so log in) a user; returns the user as the API shows it."""
    body = await call(client, 'POST', '/account/register', username=username,
                      password=password)
    assert body['code'] == 'ok', body
    return body['data']['user']
