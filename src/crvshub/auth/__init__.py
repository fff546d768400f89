"""auth feature package."""
