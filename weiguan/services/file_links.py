from typing import overload

from ..entities.enums import FileRegion
from ..entities.files import is_image
from .ports import Row

# Thumbnail bounding boxes in pixels, by the name the app asks for (thumb-<name>)
THUMB_BOUNDS = {'small': 128, 'middle': 320, 'large': 640, 'huge': 1280}
THUMB_SIZES = tuple(THUMB_BOUNDS)
NO_THUMBS = dict.fromkeys(THUMB_SIZES, '')  # shared by every non-image file: never changed


def thumb_process(size: str) -> str:
    """The `process` query value that asks for a thumbnail of this size."""
    return f'thumb-{size}'


class FileLinks:
    """Adds the public `url` and `thumbs` to a file row."""

    def __init__(self, url_base: str):
        self.url_base = url_base.rstrip('/')
        # (size, query) built once: a timeline page presents ~80 files
        self._thumb_queries = [(size, f'?process={thumb_process(size)}') for size in THUMB_SIZES]

    @overload
    def present(self, file: Row) -> Row: ...
    @overload
    def present(self, file: None) -> None: ...
    @overload
    def present(self, file: Row | None) -> Row | None: ...

    def present(self, file: Row | None) -> Row | None:
        if file is None:
            return None
        url = f"{self.url_base}/{file['bucket']}/{file['path']}"
        thumbs = ({size: url + query for size, query in self._thumb_queries}
                  if is_image(file) else NO_THUMBS)
        return {**file, 'region': file.get('region') or FileRegion.LOCAL.value,
                'url': url, 'thumbs': thumbs}
