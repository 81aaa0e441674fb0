import gc

from hub.genealogy.bulk import GC_THRESHOLDS, fewer_collections


def test_an_import_raises_the_collector_thresholds_and_the_last_one_restores_them() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        raised = gc.get_threshold()
        with fewer_collections():
            assert gc.get_threshold() == raised
        assert gc.get_threshold() == raised  # another import still runs
    assert raised[0] >= GC_THRESHOLDS[0] > before[0]
    assert gc.get_threshold() == before


def test_the_thresholds_are_restored_when_the_import_fails() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("broken stream")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
