"""location feature package."""
