"""Crosswalks from the units of an earlier structure to the current ones (models in
surveyapp/models/crosswalk.py)."""
