"""Tokens, short codes and invitation letters for sampled respondents.

Plaintext tokens exist only while letters are produced (they go into the PDF and,
from the CLI, a links CSV); the database keeps keyed hashes. Issuing again replaces
(and so invalidates) a respondent's previous token and code.
"""
