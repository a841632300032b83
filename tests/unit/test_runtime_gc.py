"""A settled process (runtime.settle_gc): the collector no longer walks the objects
built before, and collects the young generation less often."""
import gc

from weiguan.runtime import YOUNG_THRESHOLD, settle_gc


def test_a_settled_collector_leaves_out_what_was_built_before():
    threshold = gc.get_threshold()
    built = [[n] for n in range(3)]  # containers the collector tracks
    assert all(gc.is_tracked(item) for item in built)
    try:
        settle_gc()
        walked = {id(obj) for obj in gc.get_objects()}
        assert not any(id(item) in walked for item in built)
        assert gc.get_freeze_count() >= len(built)
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *threshold[1:])
        later = [0]
        assert id(later) in {id(obj) for obj in gc.get_objects()}  # new ones are walked
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
