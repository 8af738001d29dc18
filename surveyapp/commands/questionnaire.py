"""``surveyapp questionnaire ...``: list, validate, render and convert questionnaires."""

import click


@click.group("questionnaire")
def group() -> None:
    """Bảng hỏi / Questionnaires."""
