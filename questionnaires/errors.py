"""The one base exception of the questionnaires library."""


class QuestionnaireError(Exception):
    """Base class for every error raised by :mod:`questionnaires`."""
