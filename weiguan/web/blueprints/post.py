"""/post: publishing, likes and the home timeline."""
from sanic import Blueprint, Request

from ...entities import requests
from ...entities.views import post_view, posts_view
from ..envelope import ok
from ..guards import login_required
from ..params import json_body, query

post = Blueprint('post', url_prefix='/post')

publish_request = requests.PublishRequest()
post_id_request = requests.PostIdRequest()
post_id_query = requests.PostIdQuery()
user_list_query = requests.UserListQuery()
timeline_query = requests.TimelineQuery()


def _service(request: Request):
    return request.app.ctx.services.post_service


@post.post('/publish')
@login_required
async def publish(request: Request):
    data = json_body(request, publish_request)
    published_post = await _service(request).publish(request.ctx.user_id, **data)
    return ok(post=post_view.dump(published_post))


@post.post('/delete')
@login_required
async def delete(request: Request):
    data = json_body(request, post_id_request)
    deleted = await _service(request).delete(request.ctx.user_id, data['post_id'])
    return ok(post=post_view.dump(deleted))


@post.get('/info')
@login_required
async def info(request: Request):
    data = query(request, post_id_query)
    found = await _service(request).info(data['post_id'], viewer_id=request.ctx.user_id)
    return ok(post=post_view.dump(found))


@post.get('/published')
@login_required
async def published(request: Request):
    data = query(request, user_list_query)
    posts, total = await _service(request).published(
        data['user_id'] or request.ctx.user_id, request.ctx.user_id,
        data['limit'], data['offset'])
    return ok(posts=posts_view.dump(posts), total=total)


@post.post('/like')
@login_required
async def like(request: Request):
    data = json_body(request, post_id_request)
    await _service(request).like(request.ctx.user_id, data['post_id'])
    return ok()


@post.post('/unlike')
@login_required
async def unlike(request: Request):
    data = json_body(request, post_id_request)
    await _service(request).unlike(request.ctx.user_id, data['post_id'])
    return ok()


@post.get('/liked')
@login_required
async def liked(request: Request):
    data = query(request, user_list_query)
    posts, total = await _service(request).liked(
        data['user_id'] or request.ctx.user_id, request.ctx.user_id,
        data['limit'], data['offset'])
    return ok(posts=posts_view.dump(posts), total=total)


@post.get('/following')
@login_required
async def following(request: Request):
    data = query(request, timeline_query)
    posts, total = await _service(request).timeline(request.ctx.user_id, **data)
    return ok(posts=posts_view.dump(posts), total=total)
