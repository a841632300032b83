from ..entities.enums import FileRegion

THUMB_SIZES = ('small', 'middle', 'large', 'huge')


class FileLinks:
    """Adds the public `url` and `thumbs` to a file row."""

    def __init__(self, url_base: str):
        self.url_base = url_base.rstrip('/')

    def present(self, file: dict | None) -> dict | None:
        if file is None:
            return None
        url = f"{self.url_base}/{file['bucket']}/{file['path']}"
        is_image = str(file['meta'].get('type', '')).startswith('image/')
        thumbs = {size: f'{url}?process=thumb-{size}' if is_image else ''
                  for size in THUMB_SIZES}
        return {**file, 'region': file.get('region') or FileRegion.LOCAL.value,
                'url': url, 'thumbs': thumbs}
