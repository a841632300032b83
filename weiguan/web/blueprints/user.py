"""/user: profiles and follows."""
from dependency_injector.wiring import Provide
from sanic import Blueprint, Request

from ...container import Container

from ...entities import inputs
from ...entities.views import user_view, users_view
from ...services.users import UserService
from ..envelope import ok
from ..guards import login_required
from ..openapi import documented
from ..pages import user_list_page, user_list_query

user = Blueprint('user', url_prefix='/user')
# Its service, set by container.wire() at start (web/app.py).
users: UserService = Provide[Container.user_service]

user_id_query = inputs.UserIdQuery()
follow_request = inputs.FollowRequest()


@user.get('/info')
@login_required
@documented('A user.', query=user_id_query, data={'user': user_view}, errors=(404,),
            either=('id', 'userId'))
async def info(request: Request, data: dict):
    found = await users.info(data['user_id'], viewer_id=request.ctx.user_id)
    return ok(user=user_view.dump(found))


@user.post('/follow')
@login_required
@documented('Follow a user.', body=follow_request, refusals=('fail', 'duplicate'),
            errors=(404,), either=('followingId', 'userId'))
async def follow(request: Request, data: dict):
    await users.follow(request.ctx.user_id, data['following_id'])
    return ok()


@user.post('/unfollow')
@login_required
@documented('Stop following a user (ok when not following).', body=follow_request,
            errors=(404,), either=('followingId', 'userId'))
async def unfollow(request: Request, data: dict):
    await users.unfollow(request.ctx.user_id, data['following_id'])
    return ok()


@user.get('/followings')
@login_required
@documented('The users a user (default: me) follows, newest follow first.',
            query=user_list_query, data={'users': users_view, 'total': int}, errors=(404,))
async def followings(request: Request, data: dict):
    return await user_list_page(request, data, users.followings, 'users', users_view)


@user.get('/followers')
@login_required
@documented('The followers of a user (default: me), newest follow first.',
            query=user_list_query, data={'users': users_view, 'total': int}, errors=(404,))
async def followers(request: Request, data: dict):
    return await user_list_page(request, data, users.followers, 'users', users_view)
