"""From anonymised responses to satisfaction indices and PAR index points."""

from scoring_bridge.errors import ScoringError

__all__ = ["ScoringError"]
