"""/post: publishing, likes and the home timeline."""
from dependency_injector.wiring import Provide
from sanic import Blueprint, Request

from ...container import Container

from ...entities import inputs
from ...entities.views import post_view, posts_view
from ...services.posts import PostService
from ..envelope import ok
from ..guards import login_required
from ..idempotency import idempotent
from ..openapi import documented
from ..pages import user_list_page, user_list_query

post = Blueprint('post', url_prefix='/post')
# Its service, set by container.wire() at start (web/app.py).
posts: PostService = Provide[Container.post_service]

publish_request = inputs.PublishRequest()
post_id_request = inputs.PostIdRequest()
post_id_query = inputs.PostIdQuery()
timeline_query = inputs.TimelineQuery()


@post.post('/publish')
@login_required
@idempotent
@documented('Publish a text, image or video post.', body=publish_request,
            data={'post': post_view}, refusals=('fail',))
async def publish(request: Request, data: dict):
    published_post = await posts.publish(request.ctx.user_id, **data)
    return ok(post=post_view.dump(published_post))


@post.post('/delete')
@login_required
@documented('Delete one of my posts; answers it as it was.', body=post_id_request,
            data={'post': post_view}, errors=(403, 404), either=('postId', 'id'))
async def delete(request: Request, data: dict):
    deleted = await posts.delete(request.ctx.user_id, data['post_id'])
    return ok(post=post_view.dump(deleted))


@post.get('/info')
@login_required
@documented('A post.', query=post_id_query, data={'post': post_view}, errors=(404,),
            either=('id', 'postId'))
async def info(request: Request, data: dict):
    found = await posts.info(data['post_id'], viewer_id=request.ctx.user_id)
    return ok(post=post_view.dump(found))


@post.get('/published')
@login_required
@documented('The posts of a user (default: me), newest first.', query=user_list_query,
            data={'posts': posts_view, 'total': int}, errors=(404,))
async def published(request: Request, data: dict):
    return await user_list_page(request, data, posts.published, 'posts', posts_view)


@post.post('/like')
@login_required
@documented('Like a post.', body=post_id_request, refusals=('duplicate',), errors=(404,),
            either=('postId', 'id'))
async def like(request: Request, data: dict):
    await posts.like(request.ctx.user_id, data['post_id'])
    return ok()


@post.post('/unlike')
@login_required
@documented('Stop liking a post (ok when not liked).', body=post_id_request,
            errors=(404,), either=('postId', 'id'))
async def unlike(request: Request, data: dict):
    await posts.unlike(request.ctx.user_id, data['post_id'])
    return ok()


@post.get('/liked')
@login_required
@documented('The posts a user (default: me) liked, newest like first.',
            query=user_list_query, data={'posts': posts_view, 'total': int}, errors=(404,))
async def liked(request: Request, data: dict):
    return await user_list_page(request, data, posts.liked, 'posts', posts_view)


@post.get('/following')
@login_required
@documented('The home timeline: posts of the users I follow, newest first.',
            query=timeline_query, data={'posts': posts_view, 'total': int},
            description='`beforeId` pages down (older), `afterId` refreshes (newer); '
                        'not both.')
async def following(request: Request, data: dict):
    timeline, total = await posts.timeline(request.ctx.user_id, **data)
    return ok(posts=posts_view.dump(timeline), total=total)
