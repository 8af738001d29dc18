"""The draw's background jobs (:mod:`surveyapp.jobs`): a draw and a full check. On the
worker when Redis is configured, at once otherwise; either way never a long request."""

from surveyapp import jobs
from surveyapp.draws.checks import check_draw
from surveyapp.draws.operations import perform_draw
from surveyapp.extensions import db
from surveyapp.models.draws import Draw


def run_draw_job(
    campaign_id: int, params: dict, user_id: int | None, commitment_id: int | None = None
) -> None:
    """The draw with progress reports, then its full check (stored for the draw page and
    the public page)."""

    def report(stage: str, fraction: float) -> None:
        jobs.progress(int(fraction * 80), 100, stage)

    draw = perform_draw(campaign_id, params, user_id, progress=report, commitment_id=commitment_id)
    jobs.progress(80, 100, "check")
    check_draw(draw)
    jobs.progress(100, 100, "done")


def run_check_job(draw_id: int) -> None:
    """The full check of a draw, stored on it."""
    draw = db.session.get(Draw, draw_id)
    if draw is not None:
        jobs.progress(10, 100, "check")
        check_draw(draw)
    jobs.progress(100, 100, "done")
