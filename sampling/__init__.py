"""Stratified random sampling from unit-provided lists (frames).

A pure library (numpy, pandas): no Flask, no database.
"""

from sampling.allocation import Allocation, AllocationError, allocate
from sampling.commitment import (
    CommitmentError,
    commitment_sha256,
    committed_draw,
    derive_seed,
    make_commitment,
    verify_chain,
)
from sampling.draw import (
    MIN_PER_DOMAIN,
    AllocationWarning,
    DesignError,
    Sample,
    SampleDesign,
    allocation_warnings,
    draw_sample,
    plan,
)
from sampling.errors import SamplingError
from sampling.frames import (
    DamagedWorkbookError,
    EmptyFrameError,
    FrameNotFoundError,
    FrameReadError,
    FrameTooLargeError,
    MalformedCsvError,
    SheetTooLargeError,
    TooManyColumnsError,
    TooManyRowsError,
    UnknownSheetError,
    UnreadableEncodingError,
    UnsupportedFormatError,
    ZipBombError,
    read_frame,
)
from sampling.groups import DEFAULT_GROUP, GROUP_ALIASES, group_code
from sampling.manifest import ManifestError, frame_content_hash, read_manifest, write_manifest
from sampling.phones import normalise_phone, normalise_phones
from sampling.selection import SelectionError, SelectionMethod
from sampling.size import SampleSizeError, cochran_sample_size, yamane_sample_size
from sampling.text import clean_filename, neutralise_formula, spreadsheet_safe
from sampling.validation import (
    InvalidParameterError,
    MissingColumnsError,
    NoValidRowsError,
    ReportFormatError,
    ValidationError,
    ValidationResult,
    duplicates_across,
    validate_frame,
)
from sampling.verification import Difference, VerificationResult, verify_sample
from sampling.weights import WeightingError, adjust_for_nonresponse

__all__ = [
    "DEFAULT_GROUP",
    "GROUP_ALIASES",
    "MIN_PER_DOMAIN",
    "Allocation",
    "AllocationWarning",
    "CommitmentError",
    "AllocationError",
    "DamagedWorkbookError",
    "DesignError",
    "Difference",
    "EmptyFrameError",
    "FrameNotFoundError",
    "FrameReadError",
    "FrameTooLargeError",
    "InvalidParameterError",
    "MalformedCsvError",
    "ManifestError",
    "MissingColumnsError",
    "NoValidRowsError",
    "ReportFormatError",
    "Sample",
    "SampleDesign",
    "SampleSizeError",
    "SamplingError",
    "SelectionError",
    "SelectionMethod",
    "SheetTooLargeError",
    "TooManyColumnsError",
    "TooManyRowsError",
    "UnknownSheetError",
    "UnreadableEncodingError",
    "UnsupportedFormatError",
    "ValidationError",
    "ValidationResult",
    "VerificationResult",
    "WeightingError",
    "ZipBombError",
    "adjust_for_nonresponse",
    "allocate",
    "allocation_warnings",
    "clean_filename",
    "cochran_sample_size",
    "commitment_sha256",
    "committed_draw",
    "derive_seed",
    "draw_sample",
    "frame_content_hash",
    "make_commitment",
    "normalise_phone",
    "normalise_phones",
    "neutralise_formula",
    "plan",
    "read_frame",
    "read_manifest",
    "spreadsheet_safe",
    "duplicates_across",
    "group_code",
    "validate_frame",
    "verify_chain",
    "verify_sample",
    "write_manifest",
    "yamane_sample_size",
]
