"""/user: profiles and follows."""
from sanic import Blueprint, Request

from ...entities import requests
from ...entities.views import user_view, users_view
from ..envelope import ok
from ..guards import login_required
from ..openapi import documented
from ..pages import user_list_page, user_list_query
from ..params import json_body, query

user = Blueprint('user', url_prefix='/user')

user_id_query = requests.UserIdQuery()
follow_request = requests.FollowRequest()


def _service(request: Request):
    return request.app.ctx.services.user_service


@user.get('/info')
@documented('A user.', query=user_id_query, data={'user': user_view}, errors=(404,),
            either=('id', 'userId'))
@login_required
async def info(request: Request):
    data = query(request, user_id_query)
    found = await _service(request).info(data['user_id'], viewer_id=request.ctx.user_id)
    return ok(user=user_view.dump(found))


@user.post('/follow')
@documented('Follow a user.', body=follow_request, refusals=('fail', 'duplicate'),
            errors=(404,), either=('followingId', 'userId'))
@login_required
async def follow(request: Request):
    data = json_body(request, follow_request)
    await _service(request).follow(request.ctx.user_id, data['following_id'])
    return ok()


@user.post('/unfollow')
@documented('Stop following a user (ok when not following).', body=follow_request,
            errors=(404,), either=('followingId', 'userId'))
@login_required
async def unfollow(request: Request):
    data = json_body(request, follow_request)
    await _service(request).unfollow(request.ctx.user_id, data['following_id'])
    return ok()


@user.get('/followings')
@documented('The users a user (default: me) follows, newest follow first.',
            query=user_list_query, data={'users': users_view, 'total': int}, errors=(404,))
@login_required
async def followings(request: Request):
    return await user_list_page(request, _service(request).followings, 'users', users_view)


@user.get('/followers')
@documented('The followers of a user (default: me), newest follow first.',
            query=user_list_query, data={'users': users_view, 'total': int}, errors=(404,))
@login_required
async def followers(request: Request):
    return await user_list_page(request, _service(request).followers, 'users', users_view)
