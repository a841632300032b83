"""Helpers for end-to-end tests."""
import inspect
import itertools
import uuid
from datetime import datetime

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


def unique_name() -> str:
    """A username no other test used: servers run as processes share the database
    of the pass without the fixtures' wipe."""
    return 'u' + uuid.uuid4().hex[:12]


async def register(client: httpx.AsyncClient, username: str = 'alice',
                   password: str = PASSWORD) -> dict:
    """Register (and so log in) a user; returns the user as the API shows it."""
    body = await call(client, 'POST', '/account/register', username=username,
                      password=password)
    assert body['code'] == 'ok', body
    return body['data']['user']


async def provided(container, *names: str) -> list:
    """The container's objects by provider name (providers that depend on an async
    resource hand out awaitables)."""
    objects = []
    for name in names:
        obj = getattr(container, name)()
        objects.append(await obj if inspect.isawaitable(obj) else obj)
    return objects


async def logged_in(make_client, username: str) -> tuple[httpx.AsyncClient, dict]:
    """A new client with its own cookie jar, registered (so logged in) as `username`."""
    client = make_client()
    return client, await register(client, username)


async def create_file(container, user_id: int, type: str = 'image/jpeg',
                      path: str | None = None) -> dict:
    """A file row as an upload would leave it (no bytes on disk)."""
    [files] = await provided(container, 'files')
    path = path or f'{user_id}/{next(_file_names)}'
    meta = {'name': path.rsplit('/', 1)[-1], 'size': 10, 'type': type, 'width': 1,
            'height': 1, 'duration': 0}
    return await files.create(user_id, 'local', 'test', path, meta)


_file_names = itertools.count(1)


# The keys the app parses (docs/api.md, Entities).
USER_KEYS = {'id', 'username', 'mobile', 'email', 'avatarId', 'intro', 'createdAt',
             'updatedAt', 'avatar', 'stat', 'isFollowing'}
USER_STAT_KEYS = {'id', 'userId', 'postCount', 'likeCount', 'followingCount',
                  'followerCount', 'createdAt', 'updatedAt'}
POST_KEYS = {'id', 'userId', 'type', 'text', 'imageIds', 'videoId', 'createdAt',
             'updatedAt', 'user', 'images', 'video', 'stat', 'isLiked'}
POST_STAT_KEYS = {'id', 'postId', 'likeCount', 'createdAt', 'updatedAt'}
FILE_KEYS = {'id', 'userId', 'region', 'bucket', 'path', 'meta', 'url', 'thumbs',
             'createdAt', 'updatedAt'}


def has_offset(timestamp: str) -> bool:
    """An ISO 8601 time with a UTC offset, as docs/api.md requires."""
    return datetime.fromisoformat(timestamp).utcoffset() is not None
