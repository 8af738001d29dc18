"""Questionnaires as data: definitions, validation, web forms, PDFs and XLSForm."""

from questionnaires.batch import (
    BatchInputError,
    BatchResult,
    CopyEntry,
    read_codes_csv,
    render_batch,
)
from questionnaires.errors import QuestionnaireError
from questionnaires.expressions import ExpressionError, parse_expression, parse_xpath
from questionnaires.groups import GROUP_NAMES, group_name
from questionnaires.invitation import InvitationEntry, render_invitations
from questionnaires.loader import (
    QuestionnaireNotFoundError,
    build_questionnaire,
    dump_questionnaire,
    list_builtin,
    load_builtin,
    load_questionnaire,
    parse_questionnaire,
    to_definition,
)
from questionnaires.model import (
    LEFT_BLANK,
    Choice,
    Element,
    GridItem,
    Question,
    Questionnaire,
    QuestionType,
    Section,
    Text,
    Variable,
)
from questionnaires.pdf import render_questionnaire_pdf
from questionnaires.qr import QrCodeError, QrPlan, qr_matrix
from questionnaires.relevance import (
    RelevanceRule,
    decided_irrelevant,
    expression_data,
    irrelevant_questions,
    relevance_rules,
    relevant_answers,
    rule_text,
    rule_witnesses,
)
from questionnaires.validation import (
    DefinitionError,
    DefinitionSyntaxError,
    DefinitionValidationError,
    Problem,
)
from questionnaires.webform import AnswerError, WebFormError, build_form_class, clean_answers
from questionnaires.xlsform import XLSFormError, export_xlsform, import_xlsform

__all__ = [
    "GROUP_NAMES",
    "group_name",
    "XLSFormError",
    "export_xlsform",
    "import_xlsform",
    "AnswerError",
    "WebFormError",
    "build_form_class",
    "clean_answers",
    "Choice",
    "LEFT_BLANK",
    "DefinitionError",
    "DefinitionSyntaxError",
    "DefinitionValidationError",
    "Element",
    "ExpressionError",
    "GridItem",
    "Problem",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireError",
    "QuestionnaireNotFoundError",
    "Section",
    "Text",
    "Variable",
    "build_questionnaire",
    "dump_questionnaire",
    "list_builtin",
    "load_builtin",
    "load_questionnaire",
    "parse_expression",
    "parse_questionnaire",
    "parse_xpath",
    "to_definition",
    # skip logic across pages
    "RelevanceRule",
    "decided_irrelevant",
    "expression_data",
    "irrelevant_questions",
    "relevance_rules",
    "relevant_answers",
    "rule_text",
    "rule_witnesses",
    # printable PDFs, QR codes, invitations, batches
    "BatchInputError",
    "BatchResult",
    "CopyEntry",
    "InvitationEntry",
    "QrCodeError",
    "QrPlan",
    "qr_matrix",
    "read_codes_csv",
    "render_batch",
    "render_invitations",
    "render_questionnaire_pdf",
]
