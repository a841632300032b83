"""Every user-facing sentence, in one place."""

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
TOO_MANY_REQUESTS = 'Too many requests, please retry later.'
UNAVAILABLE = 'The service is temporarily unavailable, please retry later.'
INTERNAL_ERROR = 'Internal server error.'
DEPENDENCIES_DOWN = 'Unavailable: {names}.'
BODY_NOT_JSON = 'body: the request body must be a JSON object.'
BODY_NOT_OBJECT = 'body: expected a JSON object.'

# account
BAD_CREDENTIALS = 'Wrong username, mobile or password.'
USERNAME_TAKEN = 'username: that username is taken.'
MOBILE_TAKEN = 'mobile: that mobile number is already used.'
EMAIL_TAKEN = 'email: that email address is already used.'
LOGIN_NEEDS_ACCOUNT = 'username: give a username or a mobile.'
VERIFY_CODE_WRONG = 'code: the verify code is wrong or has expired.'
VERIFY_CODE_NEEDED = 'code: a verify code is needed to change {field}.'
VERIFY_CODE_TOO_SOON = 'A verify code was just sent; retry in {seconds} s.'
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
IMAGE_POST_COUNT = 'imageIds: an image post needs 1 to 9 images.'
IMAGE_POST_FILES = 'imageIds: every id must name an image file you uploaded.'
VIDEO_POST_MISSING = 'videoId: a video post needs a video.'
VIDEO_POST_FILE = 'videoId: it must name a video file you uploaded.'
BEFORE_AND_AFTER = 'beforeId: give beforeId or afterId, not both.'

# storage
FILE_NOT_FOUND = 'No such file.'

# messages (WebSocket)
WS_NOT_LOGGED_IN = 'Please log in before opening the message socket.'
WS_WELCOME = 'Welcome, {username}!'
WS_RECEIVED = 'Message received: {text}'
NOTIFY_FOLLOW_TITLE = 'New follower'
NOTIFY_FOLLOW_CONTENT = '{username} followed you.'
NOTIFY_LIKE_TITLE = 'New like'
NOTIFY_LIKE_CONTENT = '{username} liked your post.'
