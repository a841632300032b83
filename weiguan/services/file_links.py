from typing import overload

import cachebox

from ..entities.enums import FileRegion
from ..entities.files import is_image
from .ports import Row

# Thumbnail bounding boxes in pixels, by the name the app asks for (thumb-<name>)
THUMB_BOUNDS = {'small': 128, 'middle': 320, 'large': 640, 'huge': 1280}
THUMB_SIZES = tuple(THUMB_BOUNDS)
NO_THUMBS = dict.fromkeys(THUMB_SIZES, '')  # shared by every non-image file: never changed
# Presented files kept per process (~1.5 KB each: ~6 MB); a timeline page shows ~80.
PRESENTED_FILES = 4096


def thumb_process(size: str) -> str:
    """The `process` query value that asks for a thumbnail of this size."""
    return f'thumb-{size}'


# (size, query) built once: a timeline page presents ~80 files
THUMB_QUERIES = tuple((size, f'?process={thumb_process(size)}') for size in THUMB_SIZES)


class FileLinks:
    """Adds the public `url` and `thumbs` to a file row.

    A file never changes (its deletion is its repository's: a deleted file is not
    found), and its stored path is random, so each presented row is kept by id and
    path (at most `max_entries`, least recently used dropped first) and the same
    object handed out again. Nobody changes a presented row, so the dump keeps its
    own result for it (entities/views.py, FileView): a page's files were two thirds
    of its dump."""

    def __init__(self, url_base: str, max_entries: int = PRESENTED_FILES):
        self.url_base = url_base.rstrip('/')
        self._presented: cachebox.LRUCache[tuple[int, str], Row] = cachebox.LRUCache(max_entries)

    @overload
    def present(self, file: Row) -> Row: ...
    @overload
    def present(self, file: None) -> None: ...
    @overload
    def present(self, file: Row | None) -> Row | None: ...

    def present(self, file: Row | None) -> Row | None:
        if file is None:
            return None
        key = (file['id'], file['path'])
        view: Row | None = self._presented.get(key)
        if view is None:
            view = self._presented[key] = self._present(file)
        return view

    def _present(self, file: Row) -> Row:
        url = f"{self.url_base}/{file['bucket']}/{file['path']}"
        thumbs = ({size: url + query for size, query in THUMB_QUERIES}
                  if is_image(file) else NO_THUMBS)
        return {**file, 'region': file.get('region') or FileRegion.LOCAL.value,
                'url': url, 'thumbs': thumbs}
