"""FileLinks: a file row's public url and thumbnails, each presented file kept."""
from weiguan.services.file_links import THUMB_SIZES, FileLinks


def row(id, path, type='image/jpeg'):
    return {'id': id, 'user_id': 1, 'region': '', 'bucket': 'b', 'path': path,
            'meta': {'name': 'x', 'size': 1, 'type': type}}


def test_an_image_gets_its_url_and_four_thumbnails_and_another_file_none():
    links = FileLinks('http://cdn.test/files/')
    image, video = links.present(row(1, 'a.jpg')), links.present(row(2, 'v.mp4', 'video/mp4'))
    assert image['url'] == 'http://cdn.test/files/b/a.jpg' and image['region'] == 'local'
    assert image['thumbs'] == {size: f'{image["url"]}?process=thumb-{size}'
                               for size in THUMB_SIZES}
    assert video['thumbs'] == dict.fromkeys(THUMB_SIZES, '')
    assert links.present(None) is None


def test_a_file_presented_again_is_the_same_view_and_a_reused_id_gets_its_own():
    links = FileLinks('http://cdn.test')
    first = links.present(row(1, 'a.jpg'))
    assert links.present(row(1, 'a.jpg')) is first  # the dump keeps its result for it
    reused = links.present(row(1, 'b.jpg'))  # SQLite gave a deleted file's id again
    assert reused['url'] == 'http://cdn.test/b/b.jpg'


def test_at_most_max_entries_views_are_kept():
    links = FileLinks('http://cdn.test', max_entries=1)
    first = links.present(row(1, 'a.jpg'))
    links.present(row(2, 'b.jpg'))
    again = links.present(row(1, 'a.jpg'))
    assert again == first and again is not first
