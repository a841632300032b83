"""The Python the code needs (declared in pyproject.toml), checked before anything
else is imported: an older one would fail later on syntax or a missing module with
a message that does not say why; and the garbage collector of a long-running process."""
import gc
import sys

REQUIRED = (3, 11)


def check_python(version: tuple = tuple(sys.version_info[:3])) -> None:
    if version[:2] < REQUIRED:
        shown = '.'.join(map(str, version))
        sys.exit(f'error: weiguan needs Python {REQUIRED[0]}.{REQUIRED[1]} or newer; '
                 f'this is Python {shown} ({sys.executable})')


# The young generation's collection threshold (Python's own: 700). Reference counting
# frees a request's objects; but 32 requests in flight hold thousands of containers
# at once, so at 700 the collector ran ~120 times a second under load, for nothing.
YOUNG_THRESHOLD = 10_000


def settle_gc() -> int:
    """For a server or worker process once its code is loaded and its long-lived
    objects are built (modules, the container, compiled dumpers, SQL tables): the
    collector stops walking them (gc.freeze), and collects the young generation
    less often. A full collection walked the ~160,000 objects of a started server
    in ~100 ms, a stall of every request in flight: it was the p99 of a timeline
    page (docs/performance.md). Returns how many objects are frozen now."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    return gc.get_freeze_count()
