from sanic import Blueprint, Request

from ...entities import requests
from ...entities.enums import VerifyChannel
from ...entities.errors import Unavailable
from ...entities.views import user_view
from ..client_ip import client_ip
from ..envelope import ok
from ..guards import current_user_id, login_required
from ..idempotency import idempotent
from ..openapi import documented, nullable
from ..params import json_body
from ..sessions import ensure_store, log_in, log_out, persist, renew_credential

account = Blueprint('account', url_prefix='/account')

register_request = requests.RegisterRequest()
login_request = requests.LoginRequest()
modify_request = requests.ModifyRequest()
mobile_code_request = requests.SendMobileCodeRequest()
email_code_request = requests.SendEmailCodeRequest()


def _service(request: Request):
    return request.app.ctx.services.account_service


async def _log_in(request: Request, user_id: int, credential: str | None):
    """Start a fresh session (new id: no session fixation) for the user."""
    log_in(request.ctx.session, user_id, credential)
    await persist(request)
    return ok(user=user_view.dump(await _service(request).profile(user_id)))


async def _log_in_again(request: Request) -> None:
    """A replayed registration logs the client in, as a login would."""
    data = json_body(request, register_request)
    authenticated = await _service(request).login(
        data['password'], username=data['username'], client_ip=client_ip(request))
    log_in(request.ctx.session, authenticated.user_id, authenticated.credential)
    await persist(request)


@account.post('/register')
@documented('Register a user and log in as them.', body=register_request,
            data={'user': user_view}, refusals=('duplicate',), errors=(429,))
@idempotent(on_replay=_log_in_again)
async def register(request: Request):
    data = json_body(request, register_request)
    await ensure_store(request)  # no user created that could not be logged in
    service = _service(request)
    user_id = await service.register(**data, client_ip=client_ip(request))
    try:
        return await _log_in(request, user_id, await service.credential(user_id))
    except Unavailable:  # the store went away after the check: undo, answer 503
        await service.undo_register(user_id)
        raise


@account.post('/login')
@documented('Log in with username or mobile, and password.', body=login_request,
            data={'user': user_view}, refusals=('fail',), errors=(429,))
async def login(request: Request):
    data = json_body(request, login_request)
    authenticated = await _service(request).login(**data, client_ip=client_ip(request))
    return await _log_in(request, authenticated.user_id, authenticated.credential)


@account.get('/logout')
@documented('Log out; answers the user logged out, or null.',
            data={'user': nullable(user_view)})
async def logout(request: Request):
    user = await _service(request).profile(current_user_id(request))
    log_out(request.ctx.session)  # the session is deleted from the store
    await persist(request)
    return ok(user=user and user_view.dump(user))


@account.get('/info')
@documented('The logged-in user, or null.', data={'user': nullable(user_view)})
async def info(request: Request):
    user = await _service(request).profile(current_user_id(request))
    return ok(user=user and user_view.dump(user))


@account.post('/modify')
@documented('Change any of the fields; a new mobile or email needs `code`.',
            body=modify_request, data={'user': user_view}, refusals=('fail', 'duplicate'))
@login_required
async def modify(request: Request):
    data = json_body(request, modify_request)
    service = _service(request)
    user = await service.modify(request.ctx.user_id, keep_session=request.ctx.session.sid,
                                **data)
    if data.get('password') is not None:
        renew_credential(request.ctx.session, await service.credential(request.ctx.user_id))
        await persist(request)
    return ok(user=user_view.dump(user))


@account.post('/send/mobile/verify/code')
@documented('Send a verify code to a mobile number.', body=mobile_code_request,
            data={'verifyCode': nullable(str)}, refusals=('fail',), errors=(429,),
            description='`verifyCode` echoes the code only where the server is '
                        'configured to (development); null otherwise. `fail` when '
                        'the server has no way to deliver it; 503 when the delivery '
                        'failed (no code was made: retry at once).')
async def send_mobile_code(request: Request):
    data = json_body(request, mobile_code_request)
    code = await _service(request).send_code(data['type'], VerifyChannel.MOBILE,
                                             data['mobile'], client_ip(request))
    return ok(verifyCode=code)


@account.post('/send/email/verify/code')
@documented('Send a verify code to an email address.', body=email_code_request,
            data={'verifyCode': nullable(str)}, refusals=('fail',), errors=(429,),
            description='`verifyCode` echoes the code only where the server is '
                        'configured to (development); null otherwise. `fail` when '
                        'the server has no way to deliver it; 503 when the delivery '
                        'failed (no code was made: retry at once).')
async def send_email_code(request: Request):
    data = json_body(request, email_code_request)
    code = await _service(request).send_code(data['type'], VerifyChannel.EMAIL,
                                             data['email'], client_ip(request))
    return ok(verifyCode=code)
