"""Disk space the rows no longer account for: stored files that no file row points
to (an upload whose rows were never committed, rows deleted by hand), and cached
thumbnails whose stored file has no row or is gone.

A file younger than `min_age` is kept: an upload writes its files before it commits
their rows, so a fresh file without a row may be one on its way."""
import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable

from .ports import Disk, FileRepository

REGION = 'local'  # the one region on this disk
PAGE = 1000


@dataclass
class PruneReport:
    uploads: list[str] = field(default_factory=list)  # locations
    thumbs: list[str] = field(default_factory=list)   # cached copies
    bytes: int = 0
    dry_run: bool = False


class FilePruner:
    def __init__(self, files: FileRepository, disk: Disk, thumb_suffix: str,
                 clock: Callable[[], float] = time.time):
        self.files = files
        self.disk = disk
        self.thumb_suffix = thumb_suffix
        self.clock = clock

    async def _known(self) -> set[str]:
        known: set[str] = set()
        after = 0
        while rows := await self.files.locations(after, PAGE):
            known.update(f'{bucket}/{path}' for _, region, bucket, path in rows
                         if region == REGION)
            after = rows[-1][0]
        return known

    async def prune(self, dry_run: bool = False, min_age: int = 3600,
                    progress: Callable[[int, int], None] | None = None) -> PruneReport:
        known = await self._known()
        stored = await asyncio.to_thread(self.disk.stored)
        cached = await asyncio.to_thread(self.disk.cached, self.thumb_suffix)
        settled = self.clock() - min_age
        report = PruneReport(dry_run=dry_run)
        present = {item.location for item in stored}
        total = len(stored) + len(cached)
        for done, item in enumerate(stored, 1):
            if item.location not in known and item.modified <= settled:
                report.uploads.append(item.location)
                report.bytes += item.size
                present.discard(item.location)
            if progress:
                progress(done, total)
        for done, item in enumerate(cached, len(stored) + 1):
            if item.source not in known or item.source not in present:
                report.thumbs.append(item.copy)
                report.bytes += item.size
            if progress:
                progress(done, total)
        if not dry_run:
            self.disk.discard(report.uploads)
            self.disk.remove_cached(report.thumbs)
        return report
