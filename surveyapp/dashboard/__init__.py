"""Fieldwork progress dashboard: sample, completions, AAPOR response rates, CSV, chart.

Rates in rates.py (pure), figures from the database in figures.py, views in routes.py.
"""
