"""Vector family: buffering a layer's features in parallel chunks (see issue: Vector family)."""
