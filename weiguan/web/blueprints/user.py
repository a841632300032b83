"""/user: profiles and follows."""
from sanic import Blueprint, Request

from ...entities import requests
from ...entities.views import user_view, users_view
from ..envelope import ok
from ..guards import login_required
from ..params import json_body, query

user = Blueprint('user', url_prefix='/user')

user_id_query = requests.UserIdQuery()
follow_request = requests.FollowRequest()
user_list_query = requests.UserListQuery()


def _service(request: Request):
    return request.app.ctx.services.user_service


@user.get('/info')
@login_required
async def info(request: Request):
    data = query(request, user_id_query)
    found = await _service(request).info(data['user_id'], viewer_id=request.ctx.user_id)
    return ok(user=user_view.dump(found))


@user.post('/follow')
@login_required
async def follow(request: Request):
    data = json_body(request, follow_request)
    await _service(request).follow(request.ctx.user_id, data['following_id'])
    return ok()


@user.post('/unfollow')
@login_required
async def unfollow(request: Request):
    data = json_body(request, follow_request)
    await _service(request).unfollow(request.ctx.user_id, data['following_id'])
    return ok()


@user.get('/followings')
@login_required
async def followings(request: Request):
    data = query(request, user_list_query)
    users, total = await _service(request).followings(
        data['user_id'] or request.ctx.user_id, request.ctx.user_id,
        data['limit'], data['offset'])
    return ok(users=users_view.dump(users), total=total)


@user.get('/followers')
@login_required
async def followers(request: Request):
    data = query(request, user_list_query)
    users, total = await _service(request).followers(
        data['user_id'] or request.ctx.user_id, request.ctx.user_id,
        data['limit'], data['offset'])
    return ok(users=users_view.dump(users), total=total)
