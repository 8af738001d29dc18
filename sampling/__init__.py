"""Stratified random sampling from unit-provided lists (frames).

A pure library (numpy, pandas): no Flask, no database.
"""

from sampling.allocation import Allocation, AllocationError, allocate
from sampling.draw import DesignError, Sample, SampleDesign, draw_sample, plan
from sampling.errors import SamplingError
from sampling.manifest import (
    ManifestError,
    VerificationResult,
    frame_content_hash,
    read_manifest,
    verify_sample,
    write_manifest,
)
from sampling.selection import SelectionError, SelectionMethod
from sampling.size import SampleSizeError, cochran_sample_size, yamane_sample_size
from sampling.weights import WeightingError, adjust_for_nonresponse

__all__ = [
    "Allocation",
    "AllocationError",
    "DesignError",
    "ManifestError",
    "Sample",
    "SampleDesign",
    "SampleSizeError",
    "SamplingError",
    "SelectionError",
    "SelectionMethod",
    "VerificationResult",
    "WeightingError",
    "adjust_for_nonresponse",
    "allocate",
    "cochran_sample_size",
    "draw_sample",
    "frame_content_hash",
    "plan",
    "read_manifest",
    "verify_sample",
    "write_manifest",
    "yamane_sample_size",
]
