"""Dump schemas: the wire shapes of the entities of docs/api.md. Services hand over
plain dicts with snake_case keys; these rename them to camelCase and format the times.
Integers are dumped with int(), so a float stored by older code leaves as one."""
from marshmallow import fields

from .dumping import CompiledDumpSchema as Schema

# Present whenever a user is logged in (docs/api.md); every other field is always present.
VIEWER_DEPENDENT = {'description': 'present whenever a user is logged in',
                    'viewer_dependent': True}


class FileMetaView(Schema):
    name = fields.String()
    size = fields.Integer()
    type = fields.String()
    width = fields.Integer(dump_default=0)
    height = fields.Integer(dump_default=0)
    duration = fields.Integer(dump_default=0)  # whole seconds


class FileThumbsView(Schema):
    small = fields.String()
    middle = fields.String()
    large = fields.String()
    huge = fields.String()


class FileView(Schema):
    # Presented files are the same object from read to read (services/file_links.py):
    # their dumps are kept (entities/dumping.py), ~50 pages' worth (~6 MB).
    memo_size = 4096
    id = fields.Integer()
    user_id = fields.Integer(data_key='userId')
    region = fields.String()
    bucket = fields.String()
    path = fields.String()
    meta = fields.Nested(FileMetaView)
    url = fields.String()
    thumbs = fields.Nested(FileThumbsView)
    created_at = fields.DateTime(data_key='createdAt')
    updated_at = fields.DateTime(data_key='updatedAt')


class UserStatView(Schema):
    # A cached stat row is the same object while it holds (dependencies/caches.py):
    # its dump is kept, as a file's is; ~100 pages' worth.
    memo_size = 4096
    id = fields.Integer()
    user_id = fields.Integer(data_key='userId')
    post_count = fields.Integer(data_key='postCount')
    like_count = fields.Integer(data_key='likeCount')
    following_count = fields.Integer(data_key='followingCount')
    follower_count = fields.Integer(data_key='followerCount')
    created_at = fields.DateTime(data_key='createdAt')
    updated_at = fields.DateTime(data_key='updatedAt')


class UserView(Schema):
    # A presented user is the same object while its rows and the viewer's flag hold
    # (services/hydration.py, Presented): dumped once, as a file is.
    memo_size = 4096
    id = fields.Integer()
    username = fields.String()
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    avatar_id = fields.Integer(data_key='avatarId', allow_none=True)
    intro = fields.String()
    created_at = fields.DateTime(data_key='createdAt')
    updated_at = fields.DateTime(data_key='updatedAt')
    avatar = fields.Nested(FileView, allow_none=True)
    stat = fields.Nested(UserStatView, allow_none=True)
    is_following = fields.Boolean(data_key='isFollowing', metadata=VIEWER_DEPENDENT)


class PostStatView(Schema):
    memo_size = 4096  # as UserStatView's
    id = fields.Integer()
    post_id = fields.Integer(data_key='postId')
    like_count = fields.Integer(data_key='likeCount')
    created_at = fields.DateTime(data_key='createdAt')
    updated_at = fields.DateTime(data_key='updatedAt')


class PostView(Schema):
    memo_size = 4096  # as UserView's
    id = fields.Integer()
    user_id = fields.Integer(data_key='userId')
    type = fields.String()
    text = fields.String()
    image_ids = fields.List(fields.Integer(), data_key='imageIds')
    video_id = fields.Integer(data_key='videoId', allow_none=True)
    created_at = fields.DateTime(data_key='createdAt')
    updated_at = fields.DateTime(data_key='updatedAt')
    user = fields.Nested(UserView)
    images = fields.List(fields.Nested(FileView))
    video = fields.Nested(FileView, allow_none=True)
    stat = fields.Nested(PostStatView, allow_none=True)
    is_liked = fields.Boolean(data_key='isLiked', metadata=VIEWER_DEPENDENT)


user_view = UserView()
users_view = UserView(many=True)
post_view = PostView()
posts_view = PostView(many=True)
file_view = FileView()
files_view = FileView(many=True)
