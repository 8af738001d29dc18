"""Questionnaires as data: definitions, validation, web forms, PDFs and XLSForm."""

from questionnaires.errors import QuestionnaireError

__all__ = ["QuestionnaireError"]
