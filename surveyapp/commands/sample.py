"""``surveyapp sample ...``: validate frames, plan and draw samples, verify draws."""

import click


@click.group("sample")
def group() -> None:
    """Khung mẫu và chọn mẫu / Frames and sample draws."""
