"""search feature package."""
