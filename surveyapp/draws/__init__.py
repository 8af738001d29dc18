"""Sample draws (feature owned by the draw engineer)."""
