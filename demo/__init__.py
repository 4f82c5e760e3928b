"""The demo and its scaffolding: the end-to-end run (``make demo``), the embedded loopback tile
server with synthetic terrain and imagery, the demo project's styles, and the main-thread stall
meter the tests and benchmarks use. Nothing in the plugin's families depends on it."""
