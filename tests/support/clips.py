"""Small video clips the tests make with PyAV (no binary fixtures): a few tiny frames
in each container the app's phones send. Cached: each is made once per process."""
import io
from dataclasses import dataclass
from functools import lru_cache

import av
from PIL import Image

FPS = 4


@dataclass(frozen=True)
class Kind:
    container: str   # FFmpeg's muxer
    codec: str       # its encoder
    extension: str
    mime: str        # as the upload answers it (filetype's reading of the bytes)
    size: tuple[int, int]  # H.263 knows only a few frame sizes: 128x96 is sub-QCIF


KINDS = {
    'mp4-h264': Kind('mp4', 'libx264', 'mp4', 'video/mp4', (64, 48)),
    'mp4-mpeg4': Kind('mp4', 'mpeg4', 'mp4', 'video/mp4', (80, 32)),
    'webm-vp8': Kind('webm', 'libvpx', 'webm', 'video/webm', (48, 64)),
    'webm-vp9': Kind('webm', 'libvpx-vp9', 'webm', 'video/webm', (96, 32)),
    'mov-h264': Kind('mov', 'libx264', 'mov', 'video/quicktime', (32, 80)),
    # filetype reads a 3GP brand as MP4
    '3gp-h263': Kind('3gp', 'h263', 'mp4', 'video/mp4', (128, 96)),
}


@dataclass(frozen=True)
class Clip:
    name: str
    data: bytes
    mime: str
    width: int    # as shown
    height: int
    duration: int  # whole seconds, rounded


@lru_cache(maxsize=None)
def clip(kind: str = 'mp4-h264', frames: int = 11, rotation: int = 0) -> Clip:
    """`frames` frames at FPS a second (11 frames: 2.75 s, answered as 3), turned
    `rotation` degrees counter-clockwise by its display matrix."""
    spec = KINDS[kind]
    buffer = io.BytesIO()
    with av.open(buffer, 'w', format=spec.container) as out:
        stream = out.add_stream(spec.codec, rate=FPS)
        stream.width, stream.height = spec.size
        stream.pix_fmt = 'yuv420p'
        if rotation:
            stream.set_display_rotation(rotation)
        for index in range(frames):
            picture = Image.new('RGB', spec.size, (index * 23 % 256, 90, 160))
            for packet in stream.encode(av.VideoFrame.from_image(picture)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    width, height = spec.size
    if rotation % 180 == 90:
        width, height = height, width
    seconds = frames / FPS
    return Clip(f'{kind}.{spec.extension}', buffer.getvalue(), spec.mime, width, height,
                int(seconds + 0.5))


def audio_only(container: str = 'mp4') -> bytes:
    """A short silent AAC track in a video container, and no video stream."""
    buffer = io.BytesIO()
    with av.open(buffer, 'w', format=container) as out:
        stream = out.add_stream('aac', rate=8000)
        frame = av.AudioFrame(format='fltp', layout='mono', samples=1024)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 8000
        for index in range(4):
            frame.pts = index * 1024
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()
