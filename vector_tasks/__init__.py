"""Vector family: buffering a layer's features in the background, with native:buffer's results
(heavy geometry buffered on every core, written in input order by one thread; a cancel reaches
into a running GEOS call)."""
