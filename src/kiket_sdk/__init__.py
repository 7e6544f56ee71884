"""kiket-sdk (placeholder while the runtime lands)."""
