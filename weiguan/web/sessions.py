"""Server-side sessions on sanic-session 0.8.0, adapted to Sanic 25.

The package's base class is kept for its middleware and SessionDict; three of its
habits are changed here (docs/architecture.md, Sessions): cookies are set with
Sanic's current API, an unknown session id from a client is never adopted (a fresh one is issued), and the
session is written back only when it changed, or when its last-use time is due a
refresh (at most once per SESSION_REFRESH_INTERVAL: idle expiry without a write per
request). Storage and expiry are the SessionStore's (dependencies/sessions.py).
`log_in()` and `log_out()` give the session a new id (session fixation); the old
one is deleted from the store. A logged-in session carries the credential version
verified at its login (`cred`); a session whose version is no longer the user's
(password changed, user disabled, reset from the CLI) is not opened: the client
gets a fresh, logged-out one and the dead one is deleted (services/credentials.py)."""
import logging
import re
import secrets

import cachebox
from sanic import Request
from sanic_session import Session
from sanic_session.base import BaseSessionInterface, SessionDict

from ..entities.errors import Unavailable
from ..services.concurrency import concurrently

log = logging.getLogger(__name__)
SID_FORMAT = re.compile(r'^[A-Za-z0-9_-]{20,64}$')
SESSION_OWNERS = 100_000  # sessions whose owner a process keeps (~150 bytes each)


def new_sid() -> str:
    return secrets.token_urlsafe(32)


class StoreSessionInterface(BaseSessionInterface):
    def __init__(self, sessions_getter, credentials_getter, *, expiry: int,
                 cookie_name: str, secure: bool, domain: str | None):
        super().__init__(expiry=expiry, prefix='', cookie_name=cookie_name,
                         domain=domain, httponly=True, sessioncookie=False,
                         samesite='Lax', session_name='session', secure=secure)
        self._sessions = sessions_getter  # made later, on the server's loop
        self._credentials = credentials_getter
        # session id -> its user's id, for the sessions used last (see _load)
        self._owners: cachebox.LRUCache[str, int] = cachebox.LRUCache(SESSION_OWNERS)

    # The base class's storage hooks; open/write below use the SessionStore directly.
    async def _get_value(self, prefix: str, sid: str):
        return await self._sessions().load(sid)

    async def _delete_key(self, key: str):
        await self._sessions().delete(key)

    async def _set_value(self, key: str, data: dict):
        await self._sessions().save(key, data)

    async def open(self, request: Request) -> SessionDict | None:
        if getattr(request.route, 'ctx', None) and getattr(request.route.ctx, 'no_session',
                                                           False):
            return None  # health checks and file downloads touch no store
        if getattr(request.ctx, 'session_unavailable', False):
            return None  # failed once already: its 503 is being answered
        sessions = self._sessions()
        sid = request.cookies.get(self.cookie_name)
        try:
            data = await self._load(sessions, sid)
        except Unavailable:
            request.ctx.session_unavailable = True
            raise
        session = SessionDict(data, sid=sid if data is not None else new_sid())
        session.retired = []  # (sid, user id) pairs to delete at the next write
        session.written = False
        session.due_refresh = data is not None and sessions.due_refresh(data)
        request.ctx.session = session
        return session

    async def _load(self, sessions, sid: str | None) -> dict | None:
        """The session's data, if it is alive and its credential version current;
        a stale one is deleted. A session id never changes hands (a login or a
        logout gives a new one), so once its owner is known here the owner's
        current version is read beside the session: one round trip, not two."""
        if not sid or not SID_FORMAT.match(sid):
            return None
        credentials = self._credentials()
        owner = self._owners.get(sid)
        if owner is None:
            data, current = await sessions.load(sid), None
        else:
            data, current = await concurrently(sessions.load(sid),
                                               credentials.current(owner))
        user_id = None if data is None else data.get('user_id')
        if user_id is None:
            return data
        if user_id != owner:
            current = await credentials.current(user_id)
            if isinstance(user_id, int):
                self._owners[sid] = user_id
        if not await credentials.matches(current, data.get('cred'), sid):
            self._owners.pop(sid, None)
            await sessions.delete(sid)
            if isinstance(user_id, int):
                await sessions.untrack(user_id, sid)
            return None
        return data

    async def write(self, session: SessionDict) -> None:
        """Store the session's changes (and drop its retired ids) now."""
        sessions = self._sessions()
        if session.retired:
            await sessions.delete(*(sid for sid, _ in session.retired))
            for sid, user_id in session.retired:
                if user_id is not None:
                    await sessions.untrack(user_id, sid)
            session.retired = []
        if session.modified:
            if session:
                await sessions.save(session.sid, dict(session))
                if session.get('user_id') is not None:
                    await sessions.track(session['user_id'], session.sid)
            else:
                await sessions.delete(session.sid)
        elif session.due_refresh:
            try:
                await sessions.save(session.sid, dict(session), refresh=True)
            except Unavailable:  # best effort: the answer is ready, the session intact
                log.warning('session refresh skipped: the store is unavailable')
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
    session.retired.append((session.sid, session.get('user_id')))
    session.sid = new_sid()
    session.modified = True


def log_in(session: SessionDict, user_id: int, credential: str | None) -> None:
    """A fresh session (new id: no session fixation; new login time) for the user,
    bound to the credential version its login verified."""
    rotate(session)
    session.clear()
    session['user_id'] = user_id
    session['cred'] = credential


def renew_credential(session: SessionDict, credential: str | None) -> None:
    """The user changed their password in this session, which stays logged in."""
    session['cred'] = credential


def log_out(session: SessionDict) -> None:
    rotate(session)
    session.clear()


def _interface(request: Request) -> StoreSessionInterface:
    return request.app.ctx.extensions['session'].interface


async def persist(request: Request) -> None:
    """Write the session from inside the handler, so that a store failure becomes
    the request's 503. (A failure in the response middleware would only be logged,
    and the handler's answer would leave without its cookie.)"""
    await _interface(request).write(request.ctx.session)


async def still_valid(request: Request) -> bool:
    """Whether the request's logged-in session is still alive and current, as its
    next request would find it (for a WebSocket that outlives its handshake). A
    stale session is deleted, as on a request."""
    session = request.ctx.session
    interface = _interface(request)
    data = await interface._load(interface._sessions(), session.sid)
    return data is not None and data.get('user_id') == session.get('user_id')


async def ensure_store(request: Request) -> None:
    """Unavailable unless the session store answers: checked before a request makes
    a change that must be followed by a session write (register)."""
    await _interface(request)._sessions().store.ping()


def install_sessions(app, sessions_getter, credentials_getter, config: dict) -> None:
    Session(app, interface=StoreSessionInterface(
        sessions_getter, credentials_getter, expiry=config['SESSION_EXPIRY'],
        cookie_name=config['SESSION_COOKIE_NAME'],
        secure=config['SESSION_COOKIE_SECURE'], domain=config['SESSION_COOKIE_DOMAIN']))
