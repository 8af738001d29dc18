"""Sign-in, sign-out, account pages and the ``surveyapp users`` commands.

Views in routes.py, commands in cli.py, shared account logic in users.py.
"""
