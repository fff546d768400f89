"""outbox feature package."""
