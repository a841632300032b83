"""Every user-facing sentence, in one place."""
from .files import MAX_POST_IMAGES

OK = ''
FAIL = 'The request was refused.'
DUPLICATE = 'That already exists.'
INVALID_PARAM = 'Invalid parameter.'
NOT_AUTHENTICATED = 'Please log in first.'
FORBIDDEN = 'You are not allowed to do that.'
NOT_FOUND = 'Not found.'
ROUTE_NOT_FOUND = 'No such route: {method} {path}.'
METHOD_NOT_ALLOWED = 'No such route: {method} {path} (allowed: {allowed}).'
PAYLOAD_TOO_LARGE = 'The request body is too large.'
REQUEST_TIMEOUT = 'The request came too slowly: its headers or body timed out.'
TOO_MANY_REQUESTS = 'Too many requests, please retry later.'
UNAVAILABLE = 'The service is temporarily unavailable, please retry later.'
INTERNAL_ERROR = 'Internal server error.'
IDEMPOTENCY_KEY_RULE = 'Idempotency-Key: 1 to 128 visible ASCII characters.'
IDEMPOTENCY_KEY_REUSED = 'Idempotency-Key: it was used for a different request.'
IDEMPOTENCY_IN_PROGRESS = ('A request with this Idempotency-Key is still in progress; '
                           'retry in 1 s.')
DEPENDENCIES_DOWN = 'Unavailable: {names}.'
BODY_NOT_JSON = 'body: the request body must be a JSON object.'
BODY_NOT_OBJECT = 'body: expected a JSON object.'
MULTIPART_NO_BOUNDARY = 'Content-Type: multipart/form-data needs a boundary parameter.'
MULTIPART_NOT_UTF8 = 'body: a multipart field or part header is not UTF-8 text.'
MULTIPART_MALFORMED = 'body: the multipart body cannot be parsed.'
MULTIPART_FIELD_TOO_LONG = 'body: the multipart field {name!r} is longer than {limit} bytes.'
HEADERS_TOO_LARGE = 'The request headers are too large.'
URI_TOO_LONG = 'The request line (path and query string) is too long.'
REQUEST_TARGET_INVALID = 'The request target is not a path (this server is not a proxy).'
BODY_NOT_JSON_TYPE = ('Content-Type: expected application/json, got {type}; '
                      'POST bodies are JSON (the upload: multipart/form-data).')
CLI_FAILED = 'error: {message}'
CLI_FAILED_BECAUSE = 'error: {message} ({cause})'
WORKER_NOT_NEEDED = ('no job queue to consume: REDIS_URI is not set, and on the embedded '
                     'default the server runs its jobs itself (no worker needed)')

# schema (model create_tables / upgrade / downgrade)
SCHEMA_AT_HEAD = 'The schema is at the head ({head}); nothing to do.'
SCHEMA_UPGRADED = 'Upgraded the schema from {before} to {head}.'
SCHEMA_ADOPTED = ('The tables made before migrations match revision {revision}: '
                  'adopted, then upgraded to {head}.')
SCHEMA_NOT_ADOPTABLE = ('The tables have no migration record and match no revision, '
                        'so they were left alone; differences: {differences}')
MIGRATION_REFUSED = 'The migration was refused: {reason}'

# account
BAD_CREDENTIALS = 'Wrong username, mobile or password.'
ACCOUNT_DISABLED = 'This account is disabled; contact the operator of the service.'
USERNAME_TAKEN = 'username: that username is taken.'
MOBILE_TAKEN = 'mobile: that mobile number is already used.'
EMAIL_TAKEN = 'email: that email address is already used.'
LOGIN_NEEDS_ACCOUNT = 'username: give a username or a mobile.'
VERIFY_CODE_WRONG = 'code: the verify code is wrong or has expired.'
VERIFY_CODE_NEEDED = 'code: a verify code is needed to change {field}.'
VERIFY_CODE_NO_CHANNEL = ('Verify codes by {channel} cannot be sent: this server has no '
                          'way to deliver them.')
VERIFY_CODE_NOT_DELIVERED = ('The verify code could not be delivered; retry in a '
                             'moment.')
# The mail's subject and the text of the mail and of the SMS.
VERIFY_MAIL_SUBJECT = 'Your weiguan verify code'
VERIFY_CODE_TEXT = 'Your weiguan verify code is {code}. It is valid for {minutes} minutes.'
VERIFY_CODE_TOO_SOON = 'A verify code was just sent; retry in {seconds} s.'
VERIFY_CODE_TOO_MANY = 'Too many verify codes were asked for; retry in {seconds} s.'
LOGIN_TOO_MANY = 'Too many failed logins; retry in {seconds} s.'
REGISTER_TOO_MANY = 'Too many registrations; retry in {seconds} s.'
AVATAR_NOT_OWN = 'avatarId: it must name an image file you uploaded.'
USERNAME_RULE = ('3 to 20 characters: letters, digits, underscore; '
                 'starts with a letter')
PASSWORD_RULE = '8 to 64 characters with at least one letter and one digit'
MOBILE_RULE = 'digits, optionally led by +, 6 to 15 of them'

# user
FOLLOW_SELF = 'You cannot follow yourself.'
ALREADY_FOLLOWING = 'You follow this user already.'
USER_NOT_FOUND = 'No such user.'

# post
POST_NOT_FOUND = 'No such post.'
POST_NOT_OWN = 'You can only delete your own posts.'
ALREADY_LIKED = 'You like this post already.'
TEXT_POST_EMPTY = 'text: a text post needs some text.'
IMAGE_POST_COUNT = f'imageIds: an image post needs 1 to {MAX_POST_IMAGES} images.'
IMAGE_POST_FILES = 'imageIds: every id must name an image file you uploaded.'
IMAGE_POST_REPEATED = 'imageIds: each image may appear only once.'
VIDEO_POST_MISSING = 'videoId: a video post needs a video.'
VIDEO_POST_FILE = 'videoId: it must name a video file you uploaded.'
BEFORE_AND_AFTER = 'beforeId: give beforeId or afterId, not both.'

# storage
FILE_NOT_FOUND = 'No such file.'
FILES_COUNT = 'files: send 1 to {max} files under the field name "files".'
FILE_EMPTY = 'files: {name} is empty.'
FILE_TOO_LARGE = 'files: {name} is larger than {limit}.'
FILE_TYPE_MISMATCH = 'files: {name} was sent as {declared} but its content is not.'
FILE_TYPE_NOT_ALLOWED = ('files: {name} is {type}; accepted are images (JPEG, PNG, GIF, '
                         'WebP, BMP) and videos.')
UPLOAD_TOO_MANY = 'Too many uploads; retry in {seconds} s.'
IMAGE_TYPE_UNSUPPORTED = ('files: {name} is {type}; accepted images are JPEG, PNG, GIF, '
                          'WebP and BMP.')
IMAGE_UNREADABLE = 'files: {name} is not a readable image.'
IMAGE_TOO_MANY_PIXELS = 'files: {name} has more than {limit} pixels.'
VIDEO_UNREADABLE = 'files: {name} is not a readable video.'
VIDEO_TOO_SLOW = 'files: {name} could not be read as a video in time.'
PROCESS_UNKNOWN = 'process: expected one of {choices}.'
PROCESS_NOT_IMAGE = 'process: thumbnails exist only for images.'
SAFE_PREFIX_RULE = 'letters, digits, _ and - in parts separated by /'

# messages (WebSocket)
WS_NOT_LOGGED_IN = 'Please log in before opening the message socket.'
WS_WELCOME = 'Welcome, {username}!'
WS_TOO_MANY = 'Too many message sockets open: at most {limit} per user.'
WS_RECEIVED = 'Message received: {text}'
NOTIFY_FOLLOW_TITLE = 'New follower'
NOTIFY_FOLLOW_CONTENT = '{username} followed you.'
NOTIFY_LIKE_TITLE = 'New like'
NOTIFY_LIKE_CONTENT = '{username} liked your post.'
