"""CPU of dumping a home timeline page: 20 image posts (author with avatar and stat,
three images each), by the compiled dumpers (entities/dumping.py) and by
marshmallow's own Schema.dump, in one run.

    .venv/bin/python bench/dump_bench.py [--rounds 2000]

Four figures: the compiled dump with FileView's memo (entities/views.py), for new
file objects (every one a miss) and for the same presented files again (every one
a hit: services/file_links.py keeps them); the compiled dump without the memo;
marshmallow's own dump. The page is the unit tests' post (tests/unit/test_dumping.py)."""
import argparse
import copy
import os
import sys
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import marshmallow  # noqa: E402

from tests.unit.test_dumping import POST  # noqa: E402
from weiguan.entities import views  # noqa: E402
from weiguan.entities.dumping import CompiledDumpSchema  # noqa: E402


def best(run, rounds: int) -> float:
    """µs per call, best of five."""
    return min(timeit.repeat(run, number=rounds, repeat=5)) / rounds * 1e6


def new_files(page: list[dict]) -> list[dict]:
    """The page with every file a new object (the same values), as each read
    presented them before presented files were kept."""
    return [dict(post, images=[dict(f) for f in post['images']],
                 user=dict(post['user'], avatar=dict(post['user']['avatar'])))
            for post in page]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=2000)
    args = parser.parse_args()
    page = [copy.deepcopy(dict(POST, id=i)) for i in range(20)]
    copying = best(lambda: new_files(page), args.rounds)
    figures = {
        'compiled, files memoized, every file a new object (all misses)':
            best(lambda: views.posts_view.dump(new_files(page)), args.rounds) - copying,
        'compiled, files memoized, the same presented files (all hits)':
            best(lambda: views.posts_view.dump(page), args.rounds),
    }
    memo_size, views.FileView.memo_size = views.FileView.memo_size, 0
    try:  # a fresh schema compiles its own dumpers, without the memo now
        unmemoized = views.PostView(many=True)
        figures['compiled, files not memoized'] = best(lambda: unmemoized.dump(page),
                                                       args.rounds)
    finally:
        views.FileView.memo_size = memo_size
    compiled = CompiledDumpSchema.dump
    CompiledDumpSchema.dump = marshmallow.Schema.dump  # nested schemas too
    try:
        figures["marshmallow's Schema.dump"] = best(
            lambda: views.PostView(many=True).dump(page), args.rounds // 10)
    finally:
        CompiledDumpSchema.dump = compiled
    for name, micros in figures.items():
        print(f'{name}: {micros:,.0f} µs per 20-post page')


if __name__ == '__main__':
    main()
