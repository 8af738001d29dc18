"""Frame upload: units upload their lists (feature owned by the frames engineer)."""
