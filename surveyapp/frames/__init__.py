"""Frame upload: units upload their lists; the Department follows who has uploaded.

Views in routes.py, the upload logic in operations.py (spreadsheet downloads: core/downloads.py).
"""
