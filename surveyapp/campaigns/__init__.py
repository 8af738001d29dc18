"""Survey campaigns: status, instruments per respondent group, survey period, who rates whom.

Views in routes.py, the status changes in lifecycle.py (``surveyapp campaign purge-pii``:
surveyapp/fieldwork/cli.py).
"""
