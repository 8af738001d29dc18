"""Fieldwork: respondents, tokens, assignments and contact attempts."""
