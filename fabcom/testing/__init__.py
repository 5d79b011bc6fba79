"""Test support shared by fabcom's own tests and module authors' tests."""
