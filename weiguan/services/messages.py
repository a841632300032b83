"""Messages to users: the WebSocket frames of docs/api.md, and the notify events
(followed, liked) published on the broker so that whichever server process holds
the user's sockets delivers them."""
import logging
import uuid
from datetime import datetime, timezone

from ..entities import messages
from ..entities.enums import MessageLevel, MessageType
from ..entities.errors import Unavailable
from .ports import Broker, Row, UserRepository

log = logging.getLogger(__name__)


def make_message(content: str, *, type: MessageType = MessageType.NORMAL,
                 level: MessageLevel = MessageLevel.INFO, title: str | None = None) -> Row:
    message = {'id': str(uuid.uuid4()), 'type': type.value, 'level': level.value,
               'createdAt': datetime.now(timezone.utc).isoformat(), 'content': content}
    if type is MessageType.NOTIFY:
        message['title'] = title or ''
    return message


class MessageService:
    def __init__(self, broker: Broker, users: UserRepository):
        self.broker = broker
        self.users = users

    async def _notify(self, user_id: int, actor_id: int, title: str, content: str) -> None:
        """Best effort: the follow or like is saved already, so a lost notice (broker or
        database down) is logged, never turned into a failed request."""
        try:
            actor = await self.users.get(actor_id)
            name = actor['username'] if actor else '?'
            message = make_message(content.format(username=name), type=MessageType.NOTIFY,
                                   title=title)
            await self.broker.publish(user_id, message)
        except Unavailable:
            log.warning('notice to user %s lost: a dependency is unavailable', user_id)

    async def notify_followed(self, follower_id: int, following_id: int) -> None:
        await self._notify(following_id, follower_id, messages.NOTIFY_FOLLOW_TITLE,
                           messages.NOTIFY_FOLLOW_CONTENT)

    async def notify_liked(self, liker_id: int, post: Row) -> None:
        if post['user_id'] != liker_id:
            await self._notify(post['user_id'], liker_id, messages.NOTIFY_LIKE_TITLE,
                               messages.NOTIFY_LIKE_CONTENT)

    def welcome(self, username: str) -> Row:
        return make_message(messages.WS_WELCOME.format(username=username),
                            level=MessageLevel.SUCCESS)

    def not_logged_in(self) -> Row:
        return make_message(messages.WS_NOT_LOGGED_IN, level=MessageLevel.ERROR)

    def too_many_sockets(self, limit: int) -> Row:
        return make_message(messages.WS_TOO_MANY.format(limit=limit),
                            level=MessageLevel.ERROR)

    def unavailable(self) -> Row:
        return make_message(messages.UNAVAILABLE, level=MessageLevel.ERROR)

    def received(self, text: str) -> Row:
        return make_message(messages.WS_RECEIVED.format(text=text))
