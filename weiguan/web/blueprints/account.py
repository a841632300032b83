from sanic import Blueprint, Request

from ...entities import requests
from ...entities.enums import VerifyChannel
from ...entities.views import user_view
from ..envelope import ok
from ..guards import current_user_id, login_required
from ..params import json_body
from ..sessions import ensure_store, persist, rotate

account = Blueprint('account', url_prefix='/account')

register_request = requests.RegisterRequest()
login_request = requests.LoginRequest()
modify_request = requests.ModifyRequest()
mobile_code_request = requests.SendMobileCodeRequest()
email_code_request = requests.SendEmailCodeRequest()


def _service(request: Request):
    return request.app.ctx.services.account_service


async def _log_in(request: Request, user_id: int):
    """Start a fresh session (new id: no session fixation) for the user."""
    session = request.ctx.session
    rotate(session)
    session.clear()
    session['user_id'] = user_id
    await persist(request)
    return ok(user=user_view.dump(await _service(request).profile(user_id)))


@account.post('/register')
async def register(request: Request):
    data = json_body(request, register_request)
    await ensure_store(request)  # no user created that could not be logged in
    return await _log_in(request, await _service(request).register(**data))


@account.post('/login')
async def login(request: Request):
    data = json_body(request, login_request)
    return await _log_in(request, await _service(request).login(**data))


@account.get('/logout')
async def logout(request: Request):
    user = await _service(request).profile(current_user_id(request))
    rotate(request.ctx.session)
    request.ctx.session.clear()
    await persist(request)
    return ok(user=user and user_view.dump(user))


@account.get('/info')
async def info(request: Request):
    user = await _service(request).profile(current_user_id(request))
    return ok(user=user and user_view.dump(user))


@account.post('/modify')
@login_required
async def modify(request: Request):
    data = json_body(request, modify_request)
    user = await _service(request).modify(request.ctx.user_id, **data)
    return ok(user=user_view.dump(user))


@account.post('/send/mobile/verify/code')
async def send_mobile_code(request: Request):
    data = json_body(request, mobile_code_request)
    code = await _service(request).send_code(data['type'], VerifyChannel.MOBILE,
                                             data['mobile'])
    return ok(verifyCode=code)


@account.post('/send/email/verify/code')
async def send_email_code(request: Request):
    data = json_body(request, email_code_request)
    code = await _service(request).send_code(data['type'], VerifyChannel.EMAIL,
                                             data['email'])
    return ok(verifyCode=code)
