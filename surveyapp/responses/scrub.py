"""Identities out of free text: a campaign's own names, dossier codes and addresses.

Free-text answers can name the respondent, an official or a dossier. Every export reads
them through :func:`campaign_scrubber` (``scoring_bridge.Scrubber``: those terms from the
campaign's lists and sample, whole words, with or without diacritics, plus phones,
e-mails and ID numbers), and ``surveyapp campaign purge-pii`` applies it to the stored
answers (:func:`scrub_stored_answers`) and to every stored output of earlier scoring runs
(:func:`scrub_run_outputs`) before the lists and the respondents' details are deleted.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

import questionnaires
from questionnaires.model import QuestionType
from sampling import neutralise_formula
from scoring_bridge.scrub import Scrubber
from scoring_bridge.xlsx import write_xlsx
from surveyapp import storage
from surveyapp.extensions import db
from surveyapp.models.frames import FrameRecord, FrameUpload
from surveyapp.models.respondents import Respondent
from surveyapp.models.responses import Response
from surveyapp.models.results import ScoringRun, StoredFile

MICRODATA = "microdata"


def campaign_scrubber(campaign_id: int) -> Scrubber:
    """The campaign's names, dossier codes and addresses: its sample and all its lists."""
    columns = ("full_name", "dossier_code", "address")
    sampled = db.session.execute(
        sa.select(*(getattr(Respondent, c) for c in columns)).where(
            Respondent.campaign_id == campaign_id
        )
    ).all()
    listed = db.session.execute(
        sa.select(*(getattr(FrameRecord, c) for c in columns))
        .join(FrameUpload, FrameUpload.id == FrameRecord.upload_id)
        .where(FrameUpload.campaign_id == campaign_id)
    ).all()
    rows = [*sampled, *listed]
    return Scrubber(
        names={r[0] for r in rows if r[0]},
        codes={r[1] for r in rows if r[1]},
        addresses={r[2] for r in rows if r[2]},
    )


@cache
def text_codes(questionnaire_id: str, version: str) -> frozenset[str]:
    """Answer codes of the questionnaire's free-text questions."""
    questionnaire = questionnaires.load_builtin(questionnaire_id, version)
    return frozenset(
        code
        for question in questionnaire.questions()
        if question.type is QuestionType.TEXT
        for code in question.answer_codes()
    )


def scrub_answers(answers: dict, codes: frozenset[str], scrubber: Scrubber) -> dict:
    return {
        code: scrubber(value) if code in codes and isinstance(value, str) else value
        for code, value in answers.items()
    }


def scrub_stored_answers(campaign_id: int, scrubber: Scrubber) -> int:
    """Stored free-text answers of the campaign scrubbed in place; returns how many
    responses changed (in the caller's transaction)."""
    changed = 0
    for response in db.session.scalars(
        sa.select(Response).where(Response.campaign_id == campaign_id)
    ):
        codes = text_codes(response.questionnaire_id, response.questionnaire_version)
        cleaned = scrub_answers(response.answers or {}, codes, scrubber)
        if cleaned != response.answers:
            response.answers = cleaned
            changed += 1
    db.session.flush()
    return changed


# --- stored outputs -------------------------------------------------------------------------


def run_output_folders(campaign_id: int) -> list[Path]:
    """Every questionnaire folder of the campaign's scoring runs, from the runs' stored-file
    records (models, not the results feature: the purge does not depend on it)."""
    keys = db.session.scalars(
        sa.select(StoredFile.key)
        .join(ScoringRun, ScoringRun.id == StoredFile.run_id)
        .where(ScoringRun.campaign_id == campaign_id, StoredFile.kind == "output")
    )
    return sorted({storage.path(key).parent for key in keys})


def scrub_run_outputs(directories: list[Path], scrubber: Scrubber) -> int:
    """The free-text columns of every microdata file (CSV, XLSX, SPSS) in the given
    questionnaire output folders scrubbed; returns the files that changed."""
    rewritten = 0
    for folder in directories:
        codebook = folder / "codebook.xlsx"
        if not codebook.is_file():
            continue
        book = pd.read_excel(codebook, engine="calamine", dtype=str)
        texts = set(book.loc[book["type"] == "text", "variable"])
        for path in sorted(folder.glob(f"{MICRODATA}.*")):
            rewrite = _REWRITERS.get(path.suffix)
            if rewrite is not None and texts and rewrite(path, texts, scrubber):
                storage.refresh(path)
                rewritten += 1
    return rewritten


def _scrubbed(frame: pd.DataFrame, texts: set[str], scrubber: Scrubber) -> bool:
    """Scrub ``frame``'s text columns in place; True when a cell changed."""
    changed = False
    for column in texts & set(frame.columns):
        cleaned = scrubber.series(frame[column])
        if not cleaned.equals(frame[column]):
            frame[column], changed = cleaned, True
    return changed


def _rewrite_csv(path: Path, texts: set[str], scrubber: Scrubber) -> bool:
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    wanted = [i for i, name in enumerate(header) if name in texts]
    changed = False
    for row in body:
        for i in wanted:
            cleaned = neutralise_formula(scrubber(row[i]))
            changed |= cleaned != row[i]
            row[i] = cleaned
    if changed:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([header, *body])
        path.write_text(out.getvalue(), encoding="utf-8")
    return changed


def _rewrite_xlsx(path: Path, texts: set[str], scrubber: Scrubber) -> bool:
    sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
    changed = [_scrubbed(frame, texts, scrubber) for frame in sheets.values()]
    if any(changed):
        write_xlsx(path, sheets)
    return any(changed)


def _rewrite_sav(path: Path, texts: set[str], scrubber: Scrubber) -> bool:
    import pyreadstat  # heavy: only a purge with earlier outputs needs it

    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    if not _scrubbed(frame, texts, scrubber):
        return False
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels=meta.column_names_to_labels,
        variable_value_labels=meta.variable_value_labels,
        missing_ranges=meta.missing_ranges,
        variable_measure=meta.variable_measure,
        file_label=meta.file_label,
    )
    return True


_REWRITERS = {".csv": _rewrite_csv, ".xlsx": _rewrite_xlsx, ".sav": _rewrite_sav}
