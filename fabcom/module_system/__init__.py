"""How modules declare themselves, are found, checked and ordered (see docs/modules.md)."""
