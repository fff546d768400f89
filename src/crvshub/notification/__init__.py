"""notification feature package."""
