"""Administrative units: hierarchy view, CSV import and export (views in routes.py)."""
