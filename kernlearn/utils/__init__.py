"""Internal utilities shared across kernlearn (no public API)."""
