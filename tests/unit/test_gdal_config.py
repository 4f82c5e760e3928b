"""``on_this_thread``: a GDAL option for this thread during a block, then as it was."""
import threading

from osgeo import gdal

from offload.core.gdal_config import on_this_thread

KEY = "OFFLOAD_TEST_OPTION"


def test_the_option_holds_in_the_block_on_this_thread_only():
    seen_elsewhere = []
    with on_this_thread(KEY, "YES"):
        assert gdal.GetConfigOption(KEY) == "YES"
        other = threading.Thread(target=lambda: seen_elsewhere.append(gdal.GetConfigOption(KEY)))
        other.start()
        other.join()
    assert seen_elsewhere == [None]
    assert gdal.GetConfigOption(KEY) is None


def test_the_value_before_comes_back_even_after_an_error():
    gdal.SetThreadLocalConfigOption(KEY, "BEFORE")
    try:
        try:
            with on_this_thread(KEY, "DURING"):
                raise ValueError("inside")
        except ValueError:
            pass
        assert gdal.GetThreadLocalConfigOption(KEY, None) == "BEFORE"
    finally:
        gdal.SetThreadLocalConfigOption(KEY, None)
