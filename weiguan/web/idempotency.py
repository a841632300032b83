"""`Idempotency-Key` on the requests that create something (register, publish,
upload): a client that did not get its answer (a timeout, a lost connection, a
503 it retries) sends the request again with the same key, and gets the first
answer instead of a second post or a `duplicate`.

- A key is 1 to 128 visible ASCII characters (a UUID, typically); without one a
  request runs as always.
- Scope: per user on the logged-in routes (publish, upload), so one user's keys
  never meet another's; per key alone on register (the client has no account yet,
  and its IP may change between tries on a mobile network). Each key is bound to a
  digest of its request's body: the same key with another body is a 400, so a
  register answer can only be replayed by someone who sent the same name and
  password.
- The first request holds the key while it runs (a second one meanwhile is a 429
  with Retry-After: 1). A 200 answer (ok, fail, duplicate: the request was decided)
  is kept IDEMPOTENCY_TTL seconds (24 h) and replayed, with
  `Idempotent-Replayed: true`; any other answer (400, 429, 503...) releases the key,
  so the retry runs afresh. A replayed registration logs the client in again
  (checking the password as a login does).
- Stored in the key-value store: Redis when configured (every server process
  shares the keys), the process's memory otherwise. If the store cannot be
  reached the request is a 503 before anything is done; if the answer cannot be
  stored afterwards it is still sent (logged), and a retry then runs afresh."""
import asyncio
import functools
import hashlib
import logging
import re

import orjson
from sanic import Request

from ..entities import messages
from ..entities.errors import InvalidParam, TooManyRequests, Unavailable
from .multipart import multipart
from .responses import EnvelopeResponse

log = logging.getLogger(__name__)

HEADER = 'idempotency-key'
KEY_FORMAT = re.compile(r'\A[\x21-\x7e]{1,128}\Z')
PENDING_TTL = 120  # seconds a key stays held by a request that never finished
LARGE_BODY = 64 * 1024  # digested in a thread above this (uploads)


def _multipart_digest(fields, files_by_name) -> str:
    """Of the fields and files, not the bytes: a retry's boundary differs."""
    digest = hashlib.sha256()
    for name, values in sorted(fields.items()):
        digest.update(orjson.dumps([name, values]))
    for name, files in sorted(files_by_name.items()):
        for file in files:
            digest.update(orjson.dumps([name, file.name, file.type, len(file.body)]))
            digest.update(file.body)
    return digest.hexdigest()


async def _digest(request: Request) -> str:
    if (request.content_type or '').startswith('multipart/form-data'):
        return await asyncio.to_thread(_multipart_digest, *await multipart(request))
    body = request.body
    if len(body) > LARGE_BODY:
        return (await asyncio.to_thread(hashlib.sha256, body)).hexdigest()
    return hashlib.sha256(body).hexdigest()


def idempotent(handler=None, *, on_replay=None):
    """Decorate a handler (inside login_required, which sets request.ctx.user_id).
    `on_replay(request)` runs before a stored ok answer is replayed."""
    if handler is None:
        return functools.partial(idempotent, on_replay=on_replay)

    @functools.wraps(handler)
    async def once(request: Request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return await handler(request, *args, **kwargs)
        if not KEY_FORMAT.match(key):
            raise InvalidParam(messages.IDEMPOTENCY_KEY_RULE)
        store, ttl = request.app.ctx.store, request.app.ctx.config['IDEMPOTENCY_TTL']
        user_id = getattr(request.ctx, 'user_id', None)
        scope = f'user:{user_id}' if user_id is not None else 'anonymous'
        slot = 'idem:{}:{}:{}'.format(request.route.name, scope,
                                      hashlib.sha256(key.encode()).hexdigest()[:32])
        digest = await _digest(request)
        pending = orjson.dumps({'digest': digest}).decode()
        if not await store.set_if_absent(slot, pending, PENDING_TTL):
            return await _replay(request, store, slot, digest, on_replay)
        try:
            response = await handler(request, *args, **kwargs)
        except BaseException:
            await _release(store, slot)
            raise
        if response.status != 200:
            await _release(store, slot)
            return response
        record = {'digest': digest, 'body': response.body.decode(),
                  'ok': orjson.loads(response.body).get('code') == 'ok'}
        try:
            await store.set(slot, orjson.dumps(record).decode(), ttl)
        except Unavailable:
            log.warning('answer for an Idempotency-Key not kept: the store is down')
        return response
    return once


async def _replay(request, store, slot, digest, on_replay):
    raw = await store.get(slot)
    record = orjson.loads(raw) if raw else None
    if record is None or 'body' not in record:
        if record is not None and record['digest'] != digest:
            raise InvalidParam(messages.IDEMPOTENCY_KEY_REUSED)
        raise TooManyRequests(1, messages.IDEMPOTENCY_IN_PROGRESS)
    if record['digest'] != digest:
        raise InvalidParam(messages.IDEMPOTENCY_KEY_REUSED)
    if record['ok'] and on_replay is not None:
        refused = await on_replay(request)
        if refused is not None:
            return refused
    return EnvelopeResponse(record['body'].encode(), status=200,
                            headers={'Idempotent-Replayed': 'true'},
                            content_type='application/json')


async def _release(store, slot: str) -> None:
    try:
        await store.delete(slot)
    except Unavailable:  # it expires after PENDING_TTL
        log.warning('an Idempotency-Key could not be released: the store is down')
