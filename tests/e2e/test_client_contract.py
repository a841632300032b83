"""The answers as the mobile app's parsers read them (tests/support/contract.py): the hook
around the test clients catches a wrong JSON type wherever it sits (HTTP and
WebSocket), it knows every key under which a route answers an entity, the OpenAPI
document says integer where the app reads one, and rows written by the old code
(floats in the `meta` JSON) are answered with integers on both backends."""
import copy

import httpx
import orjson
import pytest

from tests.support import contract
from tests.support import call, logged_in, provided, register
from tests.support.ws_support import connect, receive
from weiguan.web.openapi import build_document

TIME = '2026-11-23T04:19:54+00:00'
FILE = {'id': 7, 'userId': 1, 'region': 'local', 'bucket': 'post', 'path': 'a.mp4',
        'meta': {'name': 'a.mp4', 'size': 10, 'type': 'video/mp4', 'width': 64,
                 'height': 48, 'duration': 3},
        'url': 'http://testserver/files/post/a.mp4',
        'thumbs': {'small': '', 'middle': '', 'large': '', 'huge': ''},
        'createdAt': TIME, 'updatedAt': TIME}
USER = {'id': 1, 'username': 'alice', 'mobile': None, 'email': None, 'avatarId': 7,
        'intro': '', 'createdAt': TIME, 'updatedAt': TIME, 'avatar': copy.deepcopy(FILE),
        'stat': {'id': 1, 'userId': 1, 'postCount': 1, 'likeCount': 0, 'followingCount': 0,
                 'followerCount': 0, 'createdAt': TIME, 'updatedAt': TIME},
        'isFollowing': False}
POST = {'id': 3, 'userId': 1, 'type': 'video', 'text': '', 'imageIds': [],
        'videoId': 7, 'createdAt': TIME, 'updatedAt': TIME, 'user': USER, 'images': [],
        'video': FILE, 'stat': {'id': 3, 'postId': 3, 'likeCount': 0, 'createdAt': TIME,
                                'updatedAt': TIME}, 'isLiked': False}
GOOD = {'/storage/file/info': {'file': FILE}, '/post/following': {'posts': [POST],
                                                                 'total': 1}}


def spoiled(data: dict, path: tuple, value) -> dict:
    data = copy.deepcopy(data)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


async def answer(route: str, data: dict):
    """A request through a test client to a server answering `data` in an envelope."""
    def handler(request):
        return httpx.Response(200, json=None, content=orjson.dumps(
            {'code': 'ok', 'message': '', 'data': data}),
            headers={'content-type': 'application/json'})
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler),
                                 base_url='http://app.test') as client:
        return await client.get(route)


@pytest.mark.parametrize('route', sorted(GOOD))
async def test_the_hook_passes_what_the_app_reads(route, client_contract):
    response = await answer(route, GOOD[route])
    assert response.status_code == 200 and client_contract == []


@pytest.mark.parametrize('route, path, value, problem', [
    ('/storage/file/info', ('file', 'meta', 'duration'), 0.0, "['duration']"),
    ('/storage/file/info', ('file', 'id'), 7.0, "['id']"),
    ('/storage/file/info', ('file', 'meta', 'size'), True, "['size']"),
    ('/storage/file/info', ('file', 'thumbs', 'tiny'), '', "['thumbs']"),
    ('/storage/file/info', ('file', 'createdAt'), 'yesterday', "['createdAt']"),
    ('/post/following', ('total',), 1.0, 'data.total'),
    ('/post/following', ('posts', 0, 'video', 'meta', 'duration'), 0.0, "['duration']"),
    ('/post/following', ('posts', 0, 'user', 'avatar', 'meta', 'width'), 64.0,
     "['width']"),
    ('/post/following', ('posts', 0, 'user', 'stat', 'followerCount'), 0.0,
     "['followerCount']"),
    ('/post/following', ('posts', 0, 'stat', 'likeCount'), 0.0, "['likeCount']"),
    ('/post/following', ('posts', 0, 'isLiked'), 0, "['isLiked']"),
    ('/post/following', ('posts', 0, 'imageIds'), [1.0], "['imageIds']"),
    ('/post/following', ('posts', 0, 'intro'), None, None),  # unknown keys: ignored
])
async def test_the_hook_fails_a_wrong_type_wherever_it_is(route, path, value, problem,
                                                          client_contract):
    data = spoiled(GOOD[route], path, value)
    if problem is None:
        await answer(route, data)
        assert client_contract == []
        return
    with pytest.raises(contract.ContractViolation) as failure:
        await answer(route, data)
    assert problem in str(failure.value)
    assert client_contract and all(problem in found for found in client_contract[:1])
    client_contract.clear()  # found on purpose: this test's teardown must pass


def test_frames_are_read_as_messages():
    good = {'id': '6f1c7a52-6c43-4e9b-9d1e-1f4c3c8a0b11', 'type': 'notify',
            'level': 'info', 'content': 'x', 'createdAt': TIME}
    assert contract.frame_violations(orjson.dumps(good).decode()) == []
    for key, value in (('level', 'loud'), ('id', 5), ('createdAt', None)):
        frame = orjson.dumps({**good, key: value}).decode()
        assert any(f"['{key}']" in found for found in contract.frame_violations(frame))
    assert contract.frame_violations('not json')


ENTITY_DEFS = {'#/components/schemas/User': 'user', '#/components/schemas/Post': 'post',
               '#/components/schemas/File': 'file'}


def _entity_refs(schema: dict) -> tuple[str | None, bool]:
    """(client schema definition, is a list) of one `data` property's OpenAPI schema."""
    is_list = schema.get('type') == 'array'
    if is_list:
        schema = schema['items']
    refs = [schema.get('$ref')] + [part.get('$ref') for part in schema.get('allOf', ())]
    return next((ENTITY_DEFS[ref] for ref in refs if ref in ENTITY_DEFS), None), is_list


def test_the_hook_knows_every_key_a_route_answers_an_entity_under(server):
    document = build_document(server.app)
    seen = set()
    for path, item in document['paths'].items():
        for method, operation in item.items():
            content = operation['responses'].get('200', {}).get('content', {})
            schema = content.get('application/json', {}).get('schema', {})
            for envelope in schema.get('oneOf', [schema]):
                data = envelope.get('properties', {}).get('data', {})
                for key, prop in data.get('properties', {}).items():
                    definition, is_list = _entity_refs(prop)
                    if definition is None:
                        continue
                    seen.add(f'{method.upper()} {path}')
                    assert contract.DATA_ENTITIES.get(key) == definition, (path, key)
                    assert (key in contract.LIST_KEYS) == is_list, (path, key)
    assert {'POST /account/register', 'GET /account/info', 'GET /user/info',
            'GET /user/followers', 'POST /post/publish', 'GET /post/following',
            'GET /post/liked', 'POST /storage/upload', 'GET /storage/file/info'} <= seen


OLD_META = {'name': 'old.jpg', 'size': 10.0, 'type': 'image/jpeg', 'width': 640.0,
            'height': 480.0, 'duration': 0.0}


def _all_meta(value):
    if isinstance(value, dict):
        if 'meta' in value and isinstance(value['meta'], dict):
            yield value['meta']
        for inner in value.values():
            yield from _all_meta(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _all_meta(inner)


async def test_rows_written_with_floats_are_answered_with_integers(make_client, server):
    """The old code wrote `duration: 0.0` into the meta JSON; those rows are still
    read everywhere a file appears (and the hook checks every answer)."""
    client, alice = await logged_in(make_client, 'alice')
    [files] = await provided(server.container, 'files')
    old = await files.create(alice['id'], 'local', 'post', 'old.jpg', dict(OLD_META))
    modified = await call(client, 'POST', '/account/modify', avatarId=old['id'])
    assert modified['code'] == 'ok', modified
    published = await call(client, 'POST', '/post/publish', type='image',
                           imageIds=[old['id']])
    assert published['code'] == 'ok', published
    post_id = published['data']['post']['id']
    other, _ = await logged_in(make_client, 'bob')
    answers = [await call(client, 'GET', '/storage/file/info', id=old['id']),
               await call(client, 'GET', '/account/info'),
               await call(other, 'GET', '/user/info', id=alice['id']),
               await call(other, 'GET', '/post/info', id=post_id),
               await call(other, 'GET', '/post/published', userId=alice['id'])]
    metas = [meta for body in answers for meta in _all_meta(body['data'])]
    assert len(metas) == 1 + 1 + 1 + 2 + 2  # post answers: its image and the avatar
    for meta in metas:
        assert meta == {'name': 'old.jpg', 'size': 10, 'type': 'image/jpeg', 'width': 640,
                        'height': 480, 'duration': 0}
        assert all(type(meta[key]) is int
                   for key in ('size', 'width', 'height', 'duration'))


COMPONENTS = {'fileMeta': 'FileMeta', 'file': 'File', 'userStat': 'UserStat',
              'postStat': 'PostStat', 'user': 'User', 'post': 'Post'}


def _json_types(schema: dict) -> set:
    kinds = schema.get('type', ())
    return {kinds} if isinstance(kinds, str) else set(kinds)


def test_the_openapi_document_says_integer_where_the_app_reads_one(server):
    """So that the schemathesis run checks the same types (tests/e2e/test_openapi_fuzz.py)."""
    schemas = build_document(server.app)['components']['schemas']
    compared = 0
    for definition, component in COMPONENTS.items():
        client = contract.SCHEMA['$defs'][definition]['properties']
        served = schemas[component]['properties']
        for key, expected in client.items():
            for side in (expected, expected.get('items', {})):
                if 'integer' in _json_types(side):
                    document = served[key] if side is expected else served[key]['items']
                    assert _json_types(document) == {'integer'}, (component, key, document)
                    compared += 1
    assert compared >= 20


async def test_the_hook_fails_a_wrong_frame_on_a_real_socket(server, client,
                                                             client_contract, monkeypatch):
    await register(client)
    service = server.container.message_service()
    welcome = service.welcome
    monkeypatch.setattr(service, 'welcome', lambda name: {**welcome(name), 'level': 1})
    async with connect(server, client) as ws:
        with pytest.raises(contract.ContractViolation) as failure:
            await receive(ws)
    assert "frame['level']" in str(failure.value)
    client_contract.clear()  # found on purpose
