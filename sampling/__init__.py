"""Stratified random sampling from unit-provided lists (frames).

A pure library (numpy, pandas): no Flask, no database.
"""

from sampling.errors import SamplingError

__all__ = ["SamplingError"]
