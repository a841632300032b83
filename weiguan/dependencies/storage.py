"""Uploaded files on the local disk, and the derived copies (thumbnails) cached apart
from them.

A location is 'bucket/path/name' relative to the upload directory. Every location is
resolved (symlinks included) and must stay inside that directory; names starting
with a dot (the temporary files of writes in progress) are never found."""
import asyncio
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

Maker = Callable[[str, str], Awaitable[None]]  # (source path, target path)


class UnsafeLocation(ValueError):
    pass


class LocalDisk:
    def __init__(self, root: str, cache_root: str):
        self.root = Path(root).resolve()
        self.cache_root = Path(cache_root).resolve()
        if self.cache_root.is_relative_to(self.root) or self.root.is_relative_to(self.cache_root):
            raise ValueError(f'the cache {cache_root} and the uploads {root} must not nest: '
                             'one would be served as the other')
        self._making: dict[Path, asyncio.Future] = {}

    def _inside(self, base: Path, location: str) -> Path:
        """`base/location`, refused unless it stays under `base` after resolution."""
        parts = location.split('/')
        if not location or '\x00' in location or '\\' in location \
                or any(not part or part.startswith('.') for part in parts):
            raise UnsafeLocation(location)
        path = (base / location).resolve()
        if not path.is_relative_to(base) or path == base:
            raise UnsafeLocation(location)
        return path

    def find(self, location: str) -> str | None:
        """The stored file's path, or None when there is no such file (or the location
        points outside the upload directory)."""
        try:
            path = self._inside(self.root, location)
            return str(path) if path.is_file() else None
        except (UnsafeLocation, OSError):
            return None

    async def write(self, files: dict[str, bytes]) -> None:
        """Write every file or none: each goes to a temporary name and is renamed into
        place (readers never see half a file); on any failure those written are
        removed again."""
        targets = {self._inside(self.root, location): data
                   for location, data in files.items()}
        await asyncio.to_thread(_write_all, targets)

    def discard(self, locations: list[str]) -> None:
        """Remove stored files (rollback of a failed upload). Unlinking is quick, so
        this runs on the loop and cannot be interrupted half-way."""
        for location in locations:
            try:
                self._inside(self.root, location).unlink(missing_ok=True)
            except (UnsafeLocation, OSError):
                pass

    def stored(self) -> list['Stored']:
        """Every stored file (files in the middle of a write excluded)."""
        return [Stored(str(path.relative_to(self.root).as_posix()), *_size_and_age(path))
                for path in _files(self.root)]

    def cached(self, suffix: str) -> list['Cached']:
        """Every cached copy, with the location of the stored file it was made from."""
        copies = []
        for path in _files(self.cache_root):
            relative = path.relative_to(self.cache_root)
            if len(relative.parts) < 2 or not relative.name.endswith(suffix):
                continue
            source = '/'.join(relative.parts[1:])[:-len(suffix)]
            copies.append(Cached(relative.as_posix(), source, *_size_and_age(path)))
        return copies

    def remove_cached(self, copies: list[str]) -> None:
        for copy in copies:
            try:
                self._inside(self.cache_root, copy).unlink(missing_ok=True)
            except (UnsafeLocation, OSError):
                pass

    async def derived(self, location: str, variant: str, suffix: str,
                      make: Maker) -> str | None:
        """The path of a cached copy of a stored file (e.g. a thumbnail), made by
        `make(source, target)` on first use; None when the file does not exist.
        Concurrent requests for one missing copy share a single `make`."""
        source = self.find(location)
        if source is None:
            return None
        relative = Path(source).relative_to(self.root)
        target = self.cache_root / variant / relative.with_name(relative.name + suffix)
        if target.is_file():
            return str(target)
        pending = self._making.get(target)
        if pending is None:
            pending = asyncio.ensure_future(_make_atomically(make, source, target))
            self._making[target] = pending
            pending.add_done_callback(lambda done: self._forget(target, done))
        await asyncio.shield(pending)  # one waiter leaving does not stop the others'
        return str(target)

    def _forget(self, target: Path, done: asyncio.Future) -> None:
        self._making.pop(target, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone


@dataclass(frozen=True)
class Stored:
    location: str  # 'bucket/path/name', as in the file rows
    size: int
    modified: float  # Unix time


@dataclass(frozen=True)
class Cached:
    copy: str      # 'variant/bucket/path/name<suffix>' under the cache
    source: str    # the location it was made from
    size: int
    modified: float


def _files(base: Path) -> list[Path]:
    """Regular files under `base`, none whose name starts with a dot (writes in
    progress); symlinks not followed."""
    if not base.is_dir():
        return []
    found: list[Path] = []
    for folder, folders, names in os.walk(base):
        folders[:] = [name for name in folders if not name.startswith('.')]
        found.extend(Path(folder) / name for name in names if not name.startswith('.'))
    return [path for path in found if path.is_file() and not path.is_symlink()]


def _size_and_age(path: Path) -> tuple[int, float]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime


def _temporary(path: Path) -> Path:
    return path.with_name(f'.{path.name}.{secrets.token_hex(4)}.tmp')


def _write_all(targets: dict[Path, bytes]) -> None:
    written: list[Path] = []
    try:
        for path, data in targets.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = _temporary(path)
            try:
                with open(temporary, 'xb') as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())  # on disk before its row is committed
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


async def _make_atomically(make: Maker, source: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(target)
    try:
        await make(source, str(temporary))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
