"""The list endpoints of a user's things: `userId` (default: me), `limit`, `offset`
in, `{<items>: [...], "total": N}` out."""
from sanic import HTTPResponse, Request

from ..entities.inputs import UserListQuery
from .envelope import ok

user_list_query = UserListQuery()


async def user_list_page(request: Request, data: dict, fetch, key: str,
                         view) -> HTTPResponse:
    """`data`: user_list_query's; `fetch(owner_id, viewer_id, limit, offset)` gives
    the page and the total."""
    items, total = await fetch(data['user_id'] or request.ctx.user_id, request.ctx.user_id,
                               data['limit'], data['offset'])
    return ok(**{key: view.dump(items)}, total=total)
