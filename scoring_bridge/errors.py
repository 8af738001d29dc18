"""The one base exception of the scoring bridge."""


class ScoringError(Exception):
    """Base class for every error raised by :mod:`scoring_bridge`."""
