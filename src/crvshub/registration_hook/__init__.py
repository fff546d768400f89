"""registration hook feature package."""
