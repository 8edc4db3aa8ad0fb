"""stats models."""
