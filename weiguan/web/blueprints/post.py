"""/post: publishing, likes and the home timeline."""
from sanic import Blueprint, Request

from ...entities import requests
from ...entities.views import post_view, posts_view
from ..envelope import ok
from ..guards import login_required
from ..idempotency import idempotent
from ..openapi import documented
from ..pages import user_list_page, user_list_query
from ..params import json_body, query

post = Blueprint('post', url_prefix='/post')

publish_request = requests.PublishRequest()
post_id_request = requests.PostIdRequest()
post_id_query = requests.PostIdQuery()
timeline_query = requests.TimelineQuery()


def _service(request: Request):
    return request.app.ctx.services.post_service


@post.post('/publish')
@documented('Publish a text, image or video post.', body=publish_request,
            data={'post': post_view}, refusals=('fail',))
@login_required
@idempotent
async def publish(request: Request):
    data = json_body(request, publish_request)
    published_post = await _service(request).publish(request.ctx.user_id, **data)
    return ok(post=post_view.dump(published_post))


@post.post('/delete')
@documented('Delete one of my posts; answers it as it was.', body=post_id_request,
            data={'post': post_view}, errors=(403, 404), either=('postId', 'id'))
@login_required
async def delete(request: Request):
    data = json_body(request, post_id_request)
    deleted = await _service(request).delete(request.ctx.user_id, data['post_id'])
    return ok(post=post_view.dump(deleted))


@post.get('/info')
@documented('A post.', query=post_id_query, data={'post': post_view}, errors=(404,),
            either=('id', 'postId'))
@login_required
async def info(request: Request):
    data = query(request, post_id_query)
    found = await _service(request).info(data['post_id'], viewer_id=request.ctx.user_id)
    return ok(post=post_view.dump(found))


@post.get('/published')
@documented('The posts of a user (default: me), newest first.', query=user_list_query,
            data={'posts': posts_view, 'total': int}, errors=(404,))
@login_required
async def published(request: Request):
    return await user_list_page(request, _service(request).published, 'posts', posts_view)


@post.post('/like')
@documented('Like a post.', body=post_id_request, refusals=('duplicate',), errors=(404,),
            either=('postId', 'id'))
@login_required
async def like(request: Request):
    data = json_body(request, post_id_request)
    await _service(request).like(request.ctx.user_id, data['post_id'])
    return ok()


@post.post('/unlike')
@documented('Stop liking a post (ok when not liked).', body=post_id_request,
            errors=(404,), either=('postId', 'id'))
@login_required
async def unlike(request: Request):
    data = json_body(request, post_id_request)
    await _service(request).unlike(request.ctx.user_id, data['post_id'])
    return ok()


@post.get('/liked')
@documented('The posts a user (default: me) liked, newest like first.',
            query=user_list_query, data={'posts': posts_view, 'total': int}, errors=(404,))
@login_required
async def liked(request: Request):
    return await user_list_page(request, _service(request).liked, 'posts', posts_view)


@post.get('/following')
@documented('The home timeline: posts of the users I follow, newest first.',
            query=timeline_query, data={'posts': posts_view, 'total': int},
            description='`beforeId` pages down (older), `afterId` refreshes (newer); '
                        'not both.')
@login_required
async def following(request: Request):
    data = query(request, timeline_query)
    posts, total = await _service(request).timeline(request.ctx.user_id, **data)
    return ok(posts=posts_view.dump(posts), total=total)
