from dependency_injector.wiring import Provide
from sanic import Blueprint, Request

from ...container import Container

from ...entities import inputs
from ...entities.enums import VerifyChannel
from ...entities.errors import Unavailable
from ...entities.views import user_view
from ...services.accounts import AccountService
from ..client_ip import client_ip
from ..envelope import ok
from ..guards import current_user_id, login_required
from ..idempotency import idempotent
from ..openapi import documented, nullable
from ..params import json_body
from ..sessions import ensure_store, log_in, log_out, persist, renew_credential

account = Blueprint('account', url_prefix='/account')
# Its service, set by container.wire() at start (web/app.py).
accounts: AccountService = Provide[Container.account_service]

register_request = inputs.RegisterRequest()
login_request = inputs.LoginRequest()
modify_request = inputs.ModifyRequest()
mobile_code_request = inputs.SendMobileCodeRequest()
email_code_request = inputs.SendEmailCodeRequest()


async def _log_in(request: Request, user_id: int, credential: str | None):
    """Start a fresh session (new id: no session fixation) for the user."""
    log_in(request.ctx.session, user_id, credential)
    await persist(request)
    return ok(user=user_view.dump(await accounts.profile(user_id)))


async def _log_in_again(request: Request) -> None:
    """A replayed registration logs the client in, as a login would. (The replay
    answers before the handler, hence before its declaration loads the body.)"""
    data = json_body(request, register_request)
    authenticated = await accounts.login(
        data['password'], username=data['username'], client_ip=client_ip(request))
    log_in(request.ctx.session, authenticated.user_id, authenticated.credential)
    await persist(request)


@account.post('/register')
@idempotent(on_replay=_log_in_again)
@documented('Register a user and log in as them.', body=register_request,
            data={'user': user_view}, refusals=('duplicate',), errors=(429,))
async def register(request: Request, data: dict):
    await ensure_store(request)  # no user created that could not be logged in
    user_id = await accounts.register(**data, client_ip=client_ip(request))
    try:
        return await _log_in(request, user_id, await accounts.credential(user_id))
    except Unavailable:  # the store went away after the check: undo, answer 503
        await accounts.undo_register(user_id)
        raise


@account.post('/login')
@documented('Log in with username or mobile, and password.', body=login_request,
            data={'user': user_view}, refusals=('fail',), errors=(429,))
async def login(request: Request, data: dict):
    authenticated = await accounts.login(**data, client_ip=client_ip(request))
    return await _log_in(request, authenticated.user_id, authenticated.credential)


@account.get('/logout')
@documented('Log out; answers the user logged out, or null.',
            data={'user': nullable(user_view)})
async def logout(request: Request):
    user = await accounts.profile(current_user_id(request))
    log_out(request.ctx.session)  # the session is deleted from the store
    await persist(request)
    return ok(user=user and user_view.dump(user))


@account.get('/info')
@documented('The logged-in user, or null.', data={'user': nullable(user_view)})
async def info(request: Request):
    user = await accounts.profile(current_user_id(request))
    return ok(user=user and user_view.dump(user))


@account.post('/modify')
@login_required
@documented('Change any of the fields; a new mobile or email needs `code`.',
            body=modify_request, data={'user': user_view}, refusals=('fail', 'duplicate'))
async def modify(request: Request, data: dict):
    user = await accounts.modify(request.ctx.user_id, keep_session=request.ctx.session.sid,
                                **data)
    if data.get('password') is not None:
        renew_credential(request.ctx.session,
                         await accounts.credential(request.ctx.user_id))
        await persist(request)
    return ok(user=user_view.dump(user))


# How both send-code routes answer (one text for the two OpenAPI operations).
SEND_CODE_ANSWERS = ('`verifyCode` echoes the code only where the server is configured '
                     'to (development); null otherwise. `fail` when the server has no '
                     'way to deliver it; 503 when the delivery failed (no code was '
                     'made: retry at once).')


@account.post('/send/mobile/verify/code')
@documented('Send a verify code to a mobile number.', body=mobile_code_request,
            data={'verifyCode': nullable(str)}, refusals=('fail',), errors=(429,),
            description=SEND_CODE_ANSWERS)
async def send_mobile_code(request: Request, data: dict):
    code = await accounts.send_code(data['type'], VerifyChannel.MOBILE, data['mobile'],
                                    client_ip(request))
    return ok(verifyCode=code)


@account.post('/send/email/verify/code')
@documented('Send a verify code to an email address.', body=email_code_request,
            data={'verifyCode': nullable(str)}, refusals=('fail',), errors=(429,),
            description=SEND_CODE_ANSWERS)
async def send_email_code(request: Request, data: dict):
    code = await accounts.send_code(data['type'], VerifyChannel.EMAIL, data['email'],
                                    client_ip(request))
    return ok(verifyCode=code)
