"""Videos end to end: each container the phones send answers its own width, height
(as shown: turned by its display matrix) and whole-second duration, in the upload's
answer, /storage/file/info and a video post; bytes that only claim to be a video are
refused with nothing stored. Then the probe itself: its time limit, on an injected
clock, and that it runs beside the event loop, not on it. Every clip is made by the
test with PyAV (tests/support/clips.py)."""
import asyncio
import io
import itertools
import threading
import zipfile

import pytest

from tests.support.clips import KINDS, audio_only, clip
from tests.support import call, register
from tests.e2e.test_storage_api import assert_nothing_stored, upload
from weiguan.dependencies.video import VideoProbe
from weiguan.entities import messages
from weiguan.entities.errors import InvalidParam

MP4_HEADER = b'\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom'


def _zip_with_exe() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        archive.writestr('setup.exe', b'MZ\x90\x00' + bytes(200))
    return buffer.getvalue()


@pytest.mark.parametrize('kind', sorted(KINDS))
async def test_each_container_answers_its_size_and_duration(client, kind):
    await register(client)
    sent = clip(kind)
    body = await upload(client, (sent.name, sent.data, sent.mime), bucket='video')
    assert body['code'] == 'ok', body
    [file] = body['data']['files']
    expected = {'name': sent.name, 'size': len(sent.data), 'type': sent.mime,
                'width': sent.width, 'height': sent.height, 'duration': sent.duration}
    assert file['meta'] == expected
    assert file['thumbs'] == dict.fromkeys(('small', 'middle', 'large', 'huge'), '')
    info = await call(client, 'GET', '/storage/file/info', id=file['id'])
    assert info['data']['file']['meta'] == expected


@pytest.mark.parametrize('kind, rotation', [('mp4-h264', 90), ('mov-h264', -90),
                                            ('webm-vp9', 270), ('mp4-mpeg4', 180)])
async def test_a_turned_clip_answers_its_size_as_shown(client, kind, rotation):
    await register(client)
    sent, upright = clip(kind, rotation=rotation), clip(kind)
    body = await upload(client, (sent.name, sent.data, sent.mime))
    [file] = body['data']['files']
    shown = (file['meta']['width'], file['meta']['height'])
    if rotation % 180:
        assert shown == (upright.height, upright.width)
    else:
        assert shown == (upright.width, upright.height)


@pytest.mark.parametrize('frames, seconds', [(9, 2), (10, 3), (2, 1), (1, 0)])
async def test_duration_is_whole_seconds_rounded(client, frames, seconds):
    await register(client)
    sent = clip('mp4-h264', frames=frames)  # 4 frames a second
    body = await upload(client, (sent.name, sent.data, sent.mime))
    assert body['data']['files'][0]['meta']['duration'] == seconds


async def test_a_video_post_carries_the_real_meta(client):
    await register(client)
    sent = clip('webm-vp8')
    [video] = (await upload(client, (sent.name, sent.data, sent.mime)))['data']['files']
    post = await call(client, 'POST', '/post/publish', type='video', videoId=video['id'])
    assert post['code'] == 'ok', post
    found = await call(client, 'GET', '/post/info', id=post['data']['post']['id'])
    assert found['data']['post']['video']['meta'] == video['meta']
    assert (video['meta']['width'], video['meta']['height']) == (48, 64)


EBML_WEBM = (b'\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04'
             b'\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x02\x42\x85\x81\x02')


@pytest.mark.parametrize('name, data, type', [
    ('setup.mp4', MP4_HEADER + _zip_with_exe(), 'video/mp4'),
    ('page.mp4', MP4_HEADER + b'<html><script>alert(1)</script></html>' * 20, 'video/mp4'),
    ('header.mp4', MP4_HEADER + bytes(300), 'video/mp4'),
    ('cut.mp4', clip('mp4-h264').data[:600], 'video/mp4'),
    ('song.mp4', audio_only(), 'video/mp4'),  # no video stream
    ('fake.webm', EBML_WEBM + bytes(500), 'video/webm'),
    ('cut.mov', clip('mov-h264').data[:300], 'video/quicktime'),
])
async def test_bytes_that_only_claim_a_video_type_are_refused(client, config, container,
                                                              name, data, type):
    await register(client)
    good = clip('mp4-h264')
    body = await upload(client, (good.name, good.data, good.mime), (name, data, type))
    assert (body['status'], body['code']) == (400, 'invalid_param'), body
    assert body['message'] == messages.VIDEO_UNREADABLE.format(name=name)
    await assert_nothing_stored(config, container)


async def test_the_header_of_a_zip_behind_an_mp4_box_is_read_as_no_video(client):
    """Issue 14's finding: the type gate took any bytes behind a 12-byte MP4 header
    as video/mp4."""
    await register(client)
    body = await upload(client, ('setup.mp4', MP4_HEADER + _zip_with_exe(), 'video/mp4'))
    assert body['message'] == messages.VIDEO_UNREADABLE.format(name='setup.mp4')


async def test_a_probe_past_its_time_limit_is_refused():
    ticks = itertools.count(step=10)  # each look at the clock: 10 s later
    probe = VideoProbe(max_pixels=10**6, timeout=3, clock=lambda: next(ticks))
    with pytest.raises(InvalidParam) as refused:
        await probe.meta(clip('mp4-h264').data, 'slow.mp4')
    assert refused.value.message == messages.VIDEO_TOO_SLOW.format(name='slow.mp4')
    in_time = VideoProbe(max_pixels=10**6, timeout=3, clock=lambda: 0)
    assert await in_time.meta(clip('mp4-h264').data, 'a.mp4') == (64, 48, 3)


async def test_the_probe_runs_beside_the_event_loop():
    """A probe stuck inside FFmpeg leaves the loop serving, and the upload stops
    waiting for it at the time limit."""
    release = threading.Event()
    loop_thread = threading.get_ident()

    def clock() -> float:
        if threading.get_ident() != loop_thread:  # FFmpeg reading, in the worker
            release.wait(10)
        return 0.0
    probe = VideoProbe(max_pixels=10**6, timeout=0.5, clock=clock)
    probing = asyncio.create_task(probe.meta(clip('mp4-h264').data, 'stuck.mp4'))
    # On the loop's thread the clock would not block and the probe would succeed.
    served = await asyncio.wait_for(asyncio.to_thread(lambda: 'served'), 5)
    assert served == 'served' and not probing.done()
    with pytest.raises(InvalidParam) as refused:
        await probing
    assert refused.value.message == messages.VIDEO_TOO_SLOW.format(name='stuck.mp4')
    release.set()


async def test_a_video_over_the_pixel_limit_is_refused():
    probe = VideoProbe(max_pixels=64 * 48 - 1, timeout=10)
    with pytest.raises(InvalidParam) as refused:
        await probe.meta(clip('mp4-h264').data, 'big.mp4')
    assert refused.value.message == messages.IMAGE_TOO_MANY_PIXELS.format(
        name='big.mp4', limit=f'{64 * 48 - 1:,}')
