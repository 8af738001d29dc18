"""The RQ worker's entry point (``rq worker surveyapp``): each queued job builds the app
and runs in its context (surveyapp/jobs.py queues jobs here by name)."""

from surveyapp import jobs
from surveyapp.app import create_app


def perform(job_id: str, func_path: str, args: list) -> None:
    app = create_app()
    with app.app_context():
        jobs.run_job(job_id, func_path, args)
