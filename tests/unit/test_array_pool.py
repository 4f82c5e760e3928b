"""ArrayPool: window-sized arrays handed back and handed out again, never to two holders."""
import gc
import weakref

import numpy as np

from offload.raster_tasks.array_pool import ArrayPool


def test_an_array_given_back_is_handed_out_again_for_its_shape_and_type():
    pool = ArrayPool()
    first = pool.take((4, 5), np.float32)
    assert first.shape == (4, 5) and first.dtype == np.float32
    pool.give(first)
    assert pool.take((4, 5), np.float64) is not first  # another type
    assert pool.take((4, 5), np.float32) is first


def test_an_array_given_twice_goes_to_one_holder_only():
    pool = ArrayPool()
    lent = pool.take((3,), np.int16)
    pool.give(lent)
    pool.give(lent)
    assert pool.take((3,), np.int16) is lent
    assert pool.take((3,), np.int16) is not lent


def test_arrays_the_pool_never_lent_are_not_taken():
    pool = ArrayPool()
    foreign = np.empty((3,), np.int16)
    pool.give(foreign)
    assert pool.take((3,), np.int16) is not foreign


def test_a_lent_array_its_holder_drops_is_freed():
    pool = ArrayPool()
    lent = pool.take((1000,), np.float32)
    watch = lent.base if lent.base is not None else lent
    gone = weakref.ref(watch)
    del lent, watch
    gc.collect()
    assert gone() is None
