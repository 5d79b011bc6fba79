"""The core's tests use the fixtures of fabcom's pytest plugin (fabcom.testing.plugin),
which is loaded through its ``pytest11`` entry point."""
