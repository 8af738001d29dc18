"""The citizen web form: short-code entry at /s, personal links /s/<token>, the form itself.

The same form serves walk-in respondents (surveyapp/walkin) through a draft that carries
no respondent. Views in routes.py; the flow both share (notices, the last page's
submission, the walk-in duplicate guard) in flow.py; drafts in drafts.py; the pages'
skip logic in engine.py.
"""
