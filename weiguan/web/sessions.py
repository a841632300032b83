"""Server-side sessions on sanic-session 0.8.0, adapted to Sanic 25.

The package's base class is kept for its middleware and SessionDict; three of its
habits are changed here (see DESIGN.md): cookies are set with Sanic's current API,
an unknown session id from a client is never adopted (a fresh one is issued), and the
session is written back only when it changed (the TTL does not slide). `rotate()`
gives the session a new id on login, register and logout (session fixation)."""
import re
import secrets

import orjson
from sanic import Request
from sanic_session import Session
from sanic_session.base import BaseSessionInterface, SessionDict

SID_FORMAT = re.compile(r'^[A-Za-z0-9_-]{20,64}$')


def new_sid() -> str:
    return secrets.token_urlsafe(32)


class StoreSessionInterface(BaseSessionInterface):
    def __init__(self, store_getter, *, expiry: int, cookie_name: str, secure: bool,
                 domain: str | None, prefix: str = 'session:'):
        super().__init__(expiry=expiry, prefix=prefix, cookie_name=cookie_name,
                         domain=domain, httponly=True, sessioncookie=False,
                         samesite='Lax', session_name='session', secure=secure)
        self._store = store_getter  # the store is made later, on the server's loop

    async def _get_value(self, prefix: str, sid: str):
        return await self._store().get(prefix + sid)

    async def _delete_key(self, key: str):
        await self._store().delete(key)

    async def _set_value(self, key: str, data: str):
        await self._store().set(key, data, self.expiry)

    async def open(self, request: Request) -> SessionDict | None:
        if getattr(request.route, 'ctx', None) and getattr(request.route.ctx, 'no_session',
                                                           False):
            return None  # health checks and file downloads touch no store
        sid = request.cookies.get(self.cookie_name)
        value = None
        if sid and SID_FORMAT.match(sid):
            value = await self._get_value(self.prefix, sid)
        session = SessionDict(orjson.loads(value) if value else None,
                              sid=sid if value else new_sid())
        session.retired = []
        session.written = False
        request.ctx.session = session
        return session

    async def write(self, session: SessionDict) -> None:
        """Store the session's changes (and drop its retired ids) now."""
        if session.retired:
            await self._store().delete(*(self.prefix + sid for sid in session.retired))
            session.retired = []
        if session.modified:
            if session:
                await self._set_value(self.prefix + session.sid,
                                      orjson.dumps(dict(session)).decode())
            else:
                await self._delete_key(self.prefix + session.sid)
        session.written = True

    async def save(self, request: Request, response) -> None:
        session = getattr(request.ctx, 'session', None)
        if session is None:
            return
        if not session.written:
            await self.write(session)
        if not session.modified:
            return
        if session:
            response.add_cookie(self.cookie_name, session.sid, httponly=True,
                                secure=self.secure, samesite=self.samesite,
                                max_age=self.expiry, domain=self.domain)
        else:
            response.cookies.delete_cookie(self.cookie_name, domain=self.domain,
                                           secure=self.secure)


def rotate(session: SessionDict) -> None:
    """Give the session a new id; the old one is deleted from the store on save."""
    session.retired.append(session.sid)
    session.sid = new_sid()
    session.modified = True


def _interface(request: Request) -> StoreSessionInterface:
    return request.app.ctx.extensions['session'].interface


async def persist(request: Request) -> None:
    """Write the session from inside the handler, so that a store failure becomes
    the request's 503. (A failure in the response middleware would only be logged,
    and the handler's answer would leave without its cookie.)"""
    await _interface(request).write(request.ctx.session)


async def ensure_store(request: Request) -> None:
    """Unavailable unless the session store answers: checked before a request makes
    a change that must be followed by a session write (register)."""
    await _interface(request)._store().ping()


def install_sessions(app, store_getter, config: dict) -> None:
    Session(app, interface=StoreSessionInterface(
        store_getter, expiry=config['SESSION_EXPIRY'],
        cookie_name=config['SESSION_COOKIE_NAME'],
        secure=config['SESSION_COOKIE_SECURE'], domain=config['SESSION_COOKIE_DOMAIN']))
