"""Vector family: buffering a layer's features in the background, with native:buffer's results
(one thread reads and buffers, another writes; a cancel reaches into a running GEOS call)."""
