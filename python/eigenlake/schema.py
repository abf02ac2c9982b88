"""Schema builder (placeholder until the foundation lands)."""
