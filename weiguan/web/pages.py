"""The list endpoints of a user's things: `userId` (default: me), `limit`, `offset`
in, `{<items>: [...], "total": N}` out."""
from sanic import HTTPResponse, Request

from ..entities.requests import UserListQuery
from .envelope import ok
from .params import query

user_list_query = UserListQuery()


async def user_list_page(request: Request, fetch, key: str, view) -> HTTPResponse:
    """`fetch(owner_id, viewer_id, limit, offset)` gives the page and the total."""
    data = query(request, user_list_query)
    items, total = await fetch(data['user_id'] or request.ctx.user_id, request.ctx.user_id,
                               data['limit'], data['offset'])
    return ok(**{key: view.dump(items)}, total=total)
