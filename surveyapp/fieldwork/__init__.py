"""Fieldwork: assignments, contact attempts, replacements from the reserve, interviews,
paper forms keyed in, back-checks.

Views in routes.py, the rules in operations.py (and dispositions.py), the
``surveyapp campaign purge-pii`` command in cli.py.
"""
