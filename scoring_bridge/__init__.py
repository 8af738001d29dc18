"""From anonymised responses to satisfaction indices and PAR index points.

Typical use (the web app passes a DataFrame of responses; the CLI a file)::

    from scoring_bridge import load_spec, score, write_outputs

    result = score(responses_frame, load_spec("sipas-citizen"), "brvt-2024")
    write_outputs(result, "out/2024-sipas")

Modules: :mod:`~scoring_bridge.inputs` (layout and validation of responses),
:mod:`~scoring_bridge.mapping` (criteria YAML), :mod:`~scoring_bridge.estimators`
(design-weighted indices, SEs, CIs), :mod:`~scoring_bridge.points` (points and their
import layout), :mod:`~scoring_bridge.outputs` (files written), :mod:`~scoring_bridge.microdata`,
:mod:`~scoring_bridge.scrub`, :mod:`~scoring_bridge.suppression`, :mod:`~scoring_bridge.report`.
"""

from scoring_bridge.errors import (
    MappingError,
    OutputError,
    QuestionnaireSpecError,
    ResponseProblem,
    ResponsesError,
    ScoringError,
)
from scoring_bridge.estimators import INDEX_COLUMNS, Formula, compute_indices
from scoring_bridge.inputs import prepare_responses, read_responses_file
from scoring_bridge.mapping import Criterion, ScoringMapping, builtin_mappings, load_mapping
from scoring_bridge.microdata import microdata_frame, write_microdata
from scoring_bridge.outputs import points_document, write_outputs
from scoring_bridge.points import POINTS_COLUMNS, criterion_points, points_for, round_half_up
from scoring_bridge.report import write_report_pdf, write_report_xlsx
from scoring_bridge.scoring import ScoringResult, score
from scoring_bridge.scrub import scrub_text
from scoring_bridge.spec import (
    ElementSpec,
    OtherVariable,
    ScaleItem,
    SurveySpec,
    load_spec,
    spec_from_questionnaire,
)
from scoring_bridge.suppression import published_tables, suppress_counts, suppression_mask
from scoring_bridge.xlsx import sheet_title, write_xlsx

__all__ = [
    "INDEX_COLUMNS",
    "POINTS_COLUMNS",
    "Criterion",
    "ElementSpec",
    "Formula",
    "MappingError",
    "OtherVariable",
    "OutputError",
    "QuestionnaireSpecError",
    "ResponseProblem",
    "ResponsesError",
    "ScaleItem",
    "ScoringError",
    "ScoringMapping",
    "ScoringResult",
    "SurveySpec",
    "builtin_mappings",
    "compute_indices",
    "criterion_points",
    "load_mapping",
    "load_spec",
    "microdata_frame",
    "points_document",
    "points_for",
    "prepare_responses",
    "published_tables",
    "read_responses_file",
    "round_half_up",
    "score",
    "scrub_text",
    "spec_from_questionnaire",
    "suppress_counts",
    "suppression_mask",
    "sheet_title",
    "write_xlsx",
    "write_microdata",
    "write_outputs",
    "write_report_pdf",
    "write_report_xlsx",
]
