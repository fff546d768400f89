"""webhook feature package."""
