"""The user and post services wired to the fakes (tests/support/fakes.py), and a recording
message service."""
from datetime import datetime, timezone
from types import SimpleNamespace

from tests.support.fakes import FakeFiles, FakeFollowRepo, FakeLikeRepo, FakePostRepo, FakeUsers
from tests.support.fakes_accounts import FakeClock
from weiguan.dependencies.feeds_memory import MemoryFeeds
from weiguan.dependencies.job_queue import InProcessJobs
from weiguan.services.feeds import FeedService
from weiguan.services.file_links import FileLinks
from weiguan.services.hydration import PostHydrator, UserHydrator
from weiguan.services.posts import PostService
from weiguan.services.users import UserService

IMAGE_META = {'name': 'a.jpg', 'size': 10, 'type': 'image/jpeg', 'width': 1, 'height': 1,
              'duration': 0}
VIDEO_META = {'name': 'a.mp4', 'size': 10, 'type': 'video/mp4', 'width': 1, 'height': 1,
              'duration': 3}


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RecordingMessages:
    """MessageService's notify methods, recording instead of publishing."""

    def __init__(self):
        self.sent: list[tuple] = []

    async def notify_followed(self, follower_id: int, following_id: int) -> None:
        self.sent.append(('followed', follower_id, following_id))

    async def notify_liked(self, liker_id: int, post: dict) -> None:
        self.sent.append(('liked', liker_id, post['id']))


def make_social(jobs: InProcessJobs | None = None, **feed_settings) -> SimpleNamespace:
    """The user and post services wired to fakes, with the fakes exposed; the feeds
    are the in-process store with in-process jobs (`jobs.drain()` runs them all)
    on a fake clock."""
    files = FakeFiles()
    users = FakeUsers(files)
    follows, likes = FakeFollowRepo(users), FakeLikeRepo(users)
    posts = FakePostRepo(users, follows, likes)
    messages = RecordingMessages()
    links = FileLinks('http://testserver/files')
    user_hydrator = UserHydrator(users=users, files=files, follows=follows, links=links)
    post_hydrator = PostHydrator(user_hydrator, likes, links)
    clock, jobs = FakeClock(), jobs or InProcessJobs(retry_delay=0)
    feed_store = MemoryFeeds(clock=clock)
    feeds = FeedService(feed_store, posts, follows, users, post_hydrator, jobs,
                        **feed_settings)
    for name, function in feeds.jobs().items():
        jobs.register(name, function)
    return SimpleNamespace(
        users=users, files=files, follows=follows, likes=likes, posts=posts,
        messages=messages, clock=clock, jobs=jobs, feed_store=feed_store, feeds=feeds,
        user_service=UserService(users=users, follows=follows, hydrator=user_hydrator,
                                 messages=messages, feeds=feeds),
        post_service=PostService(posts=posts, likes=likes, files=files, users=users,
                                 hydrator=post_hydrator, messages=messages, feeds=feeds))
