"""Rules about file rows (as the files repository gives them), in one place."""
from typing import Any

# At most this many images in one image post (the request schema and the service).
MAX_POST_IMAGES = 9


def media_type(file: dict[str, Any]) -> str:
    """The MIME type the upload was stored as ('' when unknown)."""
    return str(file['meta'].get('type', ''))


def is_image(file: dict[str, Any]) -> bool:
    return media_type(file).startswith('image/')


def is_own(file: dict[str, Any] | None, user_id: int, mime_prefix: str = 'image/') -> bool:
    """The file exists, `user_id` uploaded it, and it is of the kind asked for (an
    image by default: avatars and image posts; 'video/' for video posts)."""
    return (file is not None and file['user_id'] == user_id
            and media_type(file).startswith(mime_prefix))
