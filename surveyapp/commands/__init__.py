"""Command-line groups for the libraries (they need no application context)."""
