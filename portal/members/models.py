"""members models."""
