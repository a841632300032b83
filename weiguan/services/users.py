"""Users as others see them, and following."""
from typing import Awaitable

from ..entities import messages
from ..entities.errors import Duplicate, Fail, NotFound
from .concurrency import concurrently
from .feeds import FeedService
from .hydration import UserHydrator
from .messages import MessageService
from .ports import FollowRepository, Row, UserRepository


class UserService:
    def __init__(self, users: UserRepository, follows: FollowRepository,
                 hydrator: UserHydrator, messages: MessageService, feeds: FeedService):
        self.users = users
        self.feeds = feeds
        self.follows = follows
        self.hydrator = hydrator
        self.messages = messages

    async def info(self, user_id: int, viewer_id: int | None) -> Row:
        user = await self.hydrator.user(user_id, viewer_id)
        if user is None:
            raise NotFound(messages.USER_NOT_FOUND)
        return user

    async def follow(self, user_id: int, following_id: int) -> None:
        """Follow someone once. Whether the follow exists already is decided by the
        unique index when inserting (no check first), so concurrent calls cannot
        both succeed."""
        if user_id == following_id:
            raise Fail(messages.FOLLOW_SELF)
        try:
            followed = await self.follows.follow(user_id, following_id)
        except Duplicate as error:
            raise Duplicate(messages.ALREADY_FOLLOWING) from error
        if not followed:
            raise NotFound(messages.USER_NOT_FOUND)
        await self.feeds.backfill(user_id, following_id)
        await self.messages.notify_followed(user_id, following_id)

    async def unfollow(self, user_id: int, following_id: int) -> None:
        """Idempotent: not following is fine, an unknown user is not."""
        if await self.follows.unfollow(user_id, following_id):
            await self.feeds.remove(user_id, following_id)
        elif await self.users.get(following_id) is None:
            raise NotFound(messages.USER_NOT_FOUND)

    async def followings(self, user_id: int, viewer_id: int | None, limit: int,
                         offset: int) -> tuple[list[Row], int]:
        """The users `user_id` follows, newest follow first, and how many in all."""
        return await self._page(user_id, viewer_id, 'following_count',
                                self.follows.followings(user_id, limit, offset))

    async def followers(self, user_id: int, viewer_id: int | None, limit: int,
                        offset: int) -> tuple[list[Row], int]:
        """The users following `user_id`, newest follow first, and how many in all."""
        return await self._page(user_id, viewer_id, 'follower_count',
                                self.follows.followers(user_id, limit, offset))

    async def _page(self, user_id: int, viewer_id: int | None, counter: str,
                    page_ids: Awaitable[list[int]]) -> tuple[list[Row], int]:
        """The page's users and the total, read from the owner's exact counter."""
        owners, ids = await concurrently(self.users.get_many_with_stats([user_id]), page_ids)
        if user_id not in owners:
            raise NotFound(messages.USER_NOT_FOUND)
        users, _ = await self.hydrator.many(ids, viewer_id)
        return [users[i] for i in ids if i in users], stat_count(owners[user_id], counter)


def stat_count(row: Row, counter: str) -> int:
    """A counter of the row's joined stat (0 when the stat row is missing)."""
    return (row.get('stat') or {}).get(counter) or 0
