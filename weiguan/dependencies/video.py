"""What an uploaded video really is: its width and height as shown and its duration,
read from its bytes with PyAV (FFmpeg, bundled in the `av` wheels).

FFmpeg parsing hostile bytes is CPU work that could take long: it runs in a worker
thread, and the bytes are handed to it through a reader that stops answering once
the time limit has passed (FFmpeg then gives up at its next read); the upload does
not wait past the limit either way. Only the first frame is decoded (its display
matrix says how the video is turned), and only once the stream's header showed at
most `max_pixels` pixels."""
import asyncio
import io
import math
import time
from typing import Callable

import av

from ..entities import messages
from ..entities.errors import InvalidParam

FIRST_FRAME_PACKETS = 64  # a decodable video shows a frame long before this
# The demuxers of the video types the upload sniffs; FFmpeg may use no other (its
# playlist and concat demuxers open further files or URLs named inside the bytes).
DEMUXERS = 'mov,matroska,avi,asf,mpeg,mpegts,flv'


class _Expired(Exception):
    """The time limit passed while FFmpeg was reading."""


class _DeadlineReader(io.BytesIO):
    """The bytes, readable until the deadline."""

    def __init__(self, data: bytes, deadline: float, clock: Callable[[], float]):
        super().__init__(data)
        self.deadline = deadline
        self.clock = clock

    def read(self, size: int = -1) -> bytes:
        if self.clock() > self.deadline:
            raise _Expired
        return super().read(size)


class VideoProbe:
    def __init__(self, max_pixels: int, timeout: float,
                 clock: Callable[[], float] = time.monotonic):
        self.max_pixels = max_pixels
        self.timeout = timeout
        self.clock = clock

    async def meta(self, data: bytes, name: str) -> tuple[int, int, int]:
        """(width, height, duration): the size as shown on screen (the rotation of
        its display matrix applied), whole seconds rounded, 0 where the file does
        not say. InvalidParam naming the file when it is no readable video (no video
        stream, undecodable, more than `max_pixels` pixels, or not read in time)."""
        deadline = self.clock() + self.timeout
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._meta, data, name, deadline), self.timeout)
        except (TimeoutError, _Expired):
            raise InvalidParam(messages.VIDEO_TOO_SLOW.format(name=name)) from None

    def _meta(self, data: bytes, name: str, deadline: float) -> tuple[int, int, int]:
        unreadable = InvalidParam(messages.VIDEO_UNREADABLE.format(name=name))
        try:
            with av.open(_DeadlineReader(data, deadline, self.clock), 'r',
                         options={'format_whitelist': DEMUXERS}) as container:
                if not container.streams.video:
                    raise unreadable
                stream = container.streams.video[0]
                width, height = stream.codec_context.width, stream.codec_context.height
                if not width or not height:
                    raise unreadable
                if width * height > self.max_pixels:
                    raise InvalidParam(messages.IMAGE_TOO_MANY_PIXELS.format(
                        name=name, limit=f'{self.max_pixels:,}'))
                stream.codec_context.thread_count = 1  # one upload, one core at most
                rotation = _first_frame_rotation(container, stream)
                if rotation is None:
                    raise unreadable
                duration = _seconds(container, stream)
        except (InvalidParam, _Expired):
            raise
        except Exception:  # a demuxer fed hostile bytes can raise almost anything
            if self.clock() > deadline:  # FFmpeg may report a failed read its own way
                raise _Expired from None
            raise unreadable from None
        if rotation % 180 == 90:
            width, height = height, width
        return width, height, duration


def _first_frame_rotation(container, stream) -> int | None:
    """The rotation of the first decoded frame, degrees; None when none decodes."""
    for count, packet in enumerate(container.demux(stream)):
        if count >= FIRST_FRAME_PACKETS:
            return None
        for frame in packet.decode():
            return round(frame.rotation)
    return None


def _seconds(container, stream) -> int:
    """Whole seconds, half up; the container's length, else the stream's, else 0."""
    if container.duration:
        seconds = container.duration / av.time_base
    elif stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    else:
        return 0
    return max(0, math.floor(seconds + 0.5))
