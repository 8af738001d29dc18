"""Anonymous responses (citizen form, walk-in, data entry)."""
