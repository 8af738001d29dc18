"""Sample draws: design, allocation preview, draw, lock, verification and the contractor's
lists. Views in routes.py, the logic (and ``current_draw``) in operations.py."""
