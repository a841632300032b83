"""Posts, likes and the home timeline."""
import logging
from typing import Awaitable, Sequence

from ..entities import messages
from ..entities.enums import PostType
from ..entities.errors import Duplicate, Fail, Forbidden, NotFound, Unavailable
from ..entities.files import MAX_POST_IMAGES, is_own
from .users import stat_count
from .feeds import FeedService
from .concurrency import concurrently
from .hydration import PostHydrator
from .messages import MessageService
from .ports import FileRepository, LikeRepository, PostRepository, Row, UserRepository

log = logging.getLogger(__name__)


class PostService:
    def __init__(self, posts: PostRepository, likes: LikeRepository, files: FileRepository,
                 users: UserRepository, hydrator: PostHydrator, messages: MessageService,
                 feeds: FeedService):
        self.posts = posts
        self.feeds = feeds
        self.likes = likes
        self.files = files
        self.users = users
        self.hydrator = hydrator
        self.messages = messages

    async def publish(self, user_id: int, type: PostType, text: str = '',
                      image_ids: Sequence[int] = (), video_id: int | None = None) -> Row:
        """A new post. Only the media its type uses are kept (a text post drops any
        imageIds or videoId); a caption is optional on image and video posts.
        The answer is read after the commit; should that read fail, it is made
        from what was read before (the author, the media): a 503 would tell the
        client that a saved post was not (and its retry would post twice)."""
        image_ids, video_id, files = await self._media(user_id, type, text,
                                                       list(image_ids), video_id)
        author = await self.hydrator.users.user(user_id, viewer_id=user_id)
        post = await self.posts.create(user_id, type.value, text, image_ids, video_id)
        # the feeds' pending entry and job beside the answer's read: their Redis
        # commands share its round trips (a publish waits behind fan-outs in Redis)
        answer: Row
        answer, _ = await concurrently(self._answer(post, user_id, author, files),
                                       self.feeds.published(post['id'], user_id))
        return answer

    async def _answer(self, post: Row, user_id: int, author: Row | None,
                      files: dict[int, Row]) -> Row:
        try:
            return await self.hydrator.one(post, user_id)
        except Unavailable:
            log.warning('post %s saved; its answer is made without a fresh read', post['id'])
        if author and author.get('stat'):  # a copy: presented views are shared
            author = {**author, 'stat': {**author['stat'],
                                         'post_count': author['stat']['post_count'] + 1}}
        return self.hydrator.present(post, user_id, author, files, is_liked=False)

    async def _media(self, user_id: int, type: PostType, text: str, image_ids: list[int],
                     video_id: int | None) -> tuple[list[int], int | None, dict[int, Row]]:
        if type is PostType.TEXT:
            if not text:
                raise Fail(messages.TEXT_POST_EMPTY)
            return [], None, {}
        if type is PostType.IMAGE:
            if not 1 <= len(image_ids) <= MAX_POST_IMAGES:
                raise Fail(messages.IMAGE_POST_COUNT)
            if len(set(image_ids)) != len(image_ids):
                raise Fail(messages.IMAGE_POST_REPEATED)
            files = await self.files.get_many(image_ids)
            if not all(is_own(files.get(i), user_id, 'image/') for i in image_ids):
                raise Fail(messages.IMAGE_POST_FILES)
            return image_ids, None, files
        if video_id is None:
            raise Fail(messages.VIDEO_POST_MISSING)
        files = await self.files.get_many([video_id])
        if not is_own(files.get(video_id), user_id, 'video/'):
            raise Fail(messages.VIDEO_POST_FILE)
        return [], video_id, files

    async def info(self, post_id: int, viewer_id: int | None) -> Row:
        body = self.posts.held(post_id)  # its author and files known: read beside it
        if body is not None:
            return await self.hydrator.one_read_beside(self._get(post_id), body, viewer_id)
        return await self.hydrator.one(await self._get(post_id), viewer_id)

    async def delete(self, user_id: int, post_id: int) -> Row:
        """Delete one's own post; returns it as it was."""
        post = await self._get(post_id)
        if post['user_id'] != user_id:
            raise Forbidden(messages.POST_NOT_OWN)
        view = await self.hydrator.one(post, user_id)
        if not await self.posts.delete(post_id, user_id):
            raise NotFound(messages.POST_NOT_FOUND)  # a concurrent delete came first
        await self.feeds.deleted(post_id, user_id)
        return view

    async def like(self, user_id: int, post_id: int) -> None:
        """Like a post once; the unique index decides, as for follows."""
        post = await self._get(post_id)
        try:
            liked = await self.likes.like(user_id, post_id)
        except Duplicate as error:
            raise Duplicate(messages.ALREADY_LIKED) from error
        if not liked:
            raise NotFound(messages.POST_NOT_FOUND)
        await self.messages.notify_liked(user_id, post)

    async def unlike(self, user_id: int, post_id: int) -> None:
        """Idempotent: not liking is fine, an unknown post is not."""
        if not await self.likes.unlike(user_id, post_id) and \
                await self.posts.get(post_id) is None:
            raise NotFound(messages.POST_NOT_FOUND)

    async def published(self, user_id: int, viewer_id: int | None, limit: int,
                        offset: int) -> tuple[list[Row], int]:
        """The user's posts, newest first, and how many in all."""
        return await self._page(user_id, viewer_id, 'post_count',
                                self.posts.published(user_id, limit, offset))

    async def liked(self, user_id: int, viewer_id: int | None, limit: int,
                    offset: int) -> tuple[list[Row], int]:
        """The posts the user liked, newest like first, and how many in all."""
        return await self._page(user_id, viewer_id, 'like_count',
                                self.posts.liked(user_id, limit, offset))

    async def timeline(self, viewer_id: int, limit: int, before_id: int | None = None,
                       after_id: int | None = None) -> tuple[list[Row], int]:
        """Posts of the users the viewer follows (not the viewer's own), newest first,
        from the viewer's feed (services/feeds.py); the total is the exact sum of
        the followed users' post counts."""
        return await self.feeds.page(viewer_id, limit, before_id=before_id,
                                     after_id=after_id)

    async def _get(self, post_id: int) -> Row:
        post = await self.posts.get_with_stat(post_id)
        if post is None:
            raise NotFound(messages.POST_NOT_FOUND)
        return post

    async def _page(self, user_id: int, viewer_id: int | None, counter: str,
                    page: Awaitable[list[Row]]) -> tuple[list[Row], int]:
        owners, posts = await concurrently(self.users.get_many_with_stats([user_id]), page)
        if user_id not in owners:
            raise NotFound(messages.USER_NOT_FOUND)
        return (await self.hydrator.many(posts, viewer_id),
                stat_count(owners[user_id], counter))
