"""record feature package."""
