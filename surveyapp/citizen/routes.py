"""Citizen pages: /s (type the code), /s/<token> (personal link), /s/form, /s/thanks.

A personal link is checked, a draft opened and the browser REDIRECTED to /s/form, so the
token does not stay in the address bar, the history or a bookmark; every page sends
``Referrer-Policy: no-referrer``. Lookups are rate-limited
(``lookup_allowed``).
"""

import functools

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from wtforms import StringField

from questionnaires import load_builtin
from surveyapp.citizen import engine, flow
from surveyapp.citizen.drafts import (
    current_draft,
    open_for_respondent,
    save_draft,
)
from surveyapp.citizen.flow import NOTICES, notice
from surveyapp.core.codes import hash_code, hash_token, is_valid_code, normalise_code
from surveyapp.extensions import db
from surveyapp.i18n import LANGUAGES, current_language, lt, t
from surveyapp.models.campaigns import Campaign
from surveyapp.models.respondents import Respondent, RespondentStatus, Selection
from surveyapp.models.units import Unit
from surveyapp.responses.operations import (
    campaign_state,
    instrument_for,
    json_safe,
    pending_units,
)
from surveyapp.security import public
from surveyapp.throttles import Throttle, client_address

bp = Blueprint("citizen", __name__, url_prefix="/s", template_folder="templates")


@bp.after_request
def _no_referrer(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def lookup_throttle() -> Throttle:
    config = current_app.config
    return Throttle("token-lookup", config["TOKEN_LOOKUP_LIMIT"], config["TOKEN_LOOKUP_WINDOW"])


def overflow_throttle() -> Throttle:
    config = current_app.config
    return Throttle(
        "token-lookup-overflow",
        config["TOKEN_LOOKUP_OVERFLOW_LIMIT"],
        config["TOKEN_LOOKUP_OVERFLOW_WINDOW"],
    )


def lookup_allowed() -> bool:
    """Count one lookup of a link or code; False when it must not be made.

    Lookups are counted per address, before the lookup and in one step (concurrent guesses
    never pass the limit). Many citizens share a mobile carrier's address, so past its own
    limit an address draws on a budget shared by every address over theirs: a valid code
    still opens during a burst of other people's typos, while guessing stays bounded
    (SECURITY.md, "Throttles", gives the arithmetic).
    """
    return lookup_throttle().hit(client_address()) or overflow_throttle().hit("all")


class CodeForm(FlaskForm):
    code = StringField(lt("Mã trả lời", "Access code"))


@bp.route("", methods=["GET", "POST"])
@public
def enter_code():
    """Short-code entry: normalised, checked, then looked up like a token."""
    form = CodeForm()
    if request.method == "GET":
        return render_template("citizen/code.html", form=form)
    if not form.validate():  # only the CSRF token can fail here
        form.code.errors = [
            t("Trang đã hết hạn, xin nhập lại mã.", "The page expired; please type the code again.")
        ]
        return render_template("citizen/code.html", form=form), 400
    typed = normalise_code(form.code.data or "")
    if not typed:
        form.code.errors.append(t("Xin nhập mã trong thư mời.", "Please type the code."))
        return render_template("citizen/code.html", form=form), 422
    if not is_valid_code(typed):
        form.code.errors.append(
            t(
                "Mã có vẻ bị gõ nhầm: mã gồm 10 ký tự (chữ và số, không có chữ O, I, L, U, Z "
                "và số 0, 1). Xin kiểm tra lại từng ký tự.",
                "The code looks mistyped: it has 10 characters (letters and digits, never the "
                "letters O, I, L, U, Z or the digits 0, 1). Please check each character.",
            )
        )
        return render_template("citizen/code.html", form=form), 422
    return _open(Respondent.short_code_hash == hash_code(typed))


@bp.route("/<token>")
@public
def open_link(token: str):
    """A personal link: check it, then redirect to the form or a notice (never keep the token
    in the address bar)."""
    if len(token) > 64:
        return _notice_redirect("invalid")
    return _open(Respondent.token_hash == hash_token(token), show=_notice_redirect)


def _notice_redirect(kind: str):
    # Even a refused token leaves the address bar (and the history).
    return redirect(url_for("citizen.notice_page", kind=kind))


@bp.route("/notice/<kind>")
@public
def notice_page(kind: str):
    if kind not in NOTICES:
        return notice("invalid")
    return notice(kind)


def _open(condition, show=notice):
    if not lookup_allowed():
        return show("throttled")
    respondent = db.session.scalar(sa.select(Respondent).where(condition))
    if respondent is None or (
        respondent.selection == Selection.RESERVE and not respondent.released
    ):
        return show("invalid")
    campaign = db.session.get(Campaign, respondent.campaign_id)
    state = campaign_state(campaign, token=True)
    if state:
        return show(state)
    if respondent.status == RespondentStatus.REPLACED:
        return show("replaced")
    if respondent.status == RespondentStatus.INELIGIBLE:
        return show("invalid")
    pending = pending_units(respondent)
    if not pending:
        return show("answered")
    if instrument_for(respondent.campaign_id, respondent.respondent_group) is None:
        return show("not_open")
    open_for_respondent(respondent, pending[0])
    return redirect(url_for("citizen.form"))


# --- the form -------------------------------------------------------------------------------


def _questionnaire(draft):
    return _builtin(draft.questionnaire_id, draft.questionnaire_version)


@functools.lru_cache(maxsize=32)
def _builtin(questionnaire_id: str, version: str):
    # A published version never changes (a change is a new version), and load_builtin
    # lists the library folder and stats the file on every call.
    return load_builtin(questionnaire_id, version)


def _current_index(questionnaire, draft) -> int:
    index = min(max(draft.step, 0), len(questionnaire.sections) - 1)
    answers = engine.keep_relevant(questionnaire, draft.answers)
    if engine.section_shown(questionnaire, index, answers):
        return index
    return engine.first_section(questionnaire, answers)


def _render_form(questionnaire, draft, index, form, status=200):
    answers = engine.keep_relevant(questionnaire, draft.answers)
    counted = engine.counted_sections(questionnaire, index, answers)
    lang = current_language()
    section = questionnaire.sections[index]
    unit = db.session.get(Unit, draft.rated_unit_id)
    notes = {
        q.code: engine.condition_note(questionnaire, index, q, lang) for q in section.questions
    }
    rules = {q.code: engine.rule_data(q) for q in section.questions if notes[q.code]}
    page = render_template(
        "citizen/form.html",
        questionnaire=questionnaire,
        section=section,
        form=form,
        unit=unit,
        position=(counted.index(index) + 1, len(counted)),
        has_previous=engine.previous_section(questionnaire, index, answers) is not None,
        is_last=engine.next_section(questionnaire, index, answers) is None,
        notes=notes,
        rules=rules,
        earlier=engine.referenced_earlier(questionnaire, index, answers),
        hidden=engine.hidden_questions(questionnaire, index, answers),
    )
    return page, status


@bp.route("/form", methods=["GET", "POST"])
@public
def form():
    draft = current_draft()
    if draft is None:
        return notice("session")
    questionnaire = _questionnaire(draft)
    index = _current_index(questionnaire, draft)
    form_cls = engine.form_class(questionnaire, current_language(), index)
    if request.method == "GET":
        data = engine.field_data(questionnaire, engine.keep_relevant(questionnaire, draft.answers))
        return _render_form(questionnaire, draft, index, form_cls(formdata=None, data=data))
    page_form = form_cls()
    page_form.earlier_answers = engine.answers_before(
        questionnaire, index, engine.keep_relevant(questionnaire, draft.answers)
    )
    valid = page_form.validate()
    csrf_errors = getattr(getattr(page_form, "csrf_token", None), "errors", None)
    if csrf_errors:
        return _render_form(questionnaire, draft, index, page_form, 400)
    page_codes = engine.section_codes(questionnaire, index)
    answers = engine.keep_relevant(
        questionnaire, engine.merge(draft.answers, page_codes, json_safe(page_form.answers))
    )
    action = request.form.get("action", "next")
    if action == "back" or action.startswith("lang-"):
        # Keep what was answered on this page, even when incomplete.
        step = None
        if action == "back":
            previous = engine.previous_section(questionnaire, index, answers)
            step = index if previous is None else previous
        elif action[5:] in LANGUAGES:
            session["lang"] = action[5:]
        save_draft(draft.id, answers, step)
        return redirect(url_for("citizen.form"))
    if not valid:
        problems = engine.page_problems(
            questionnaire, index, request.form, page_form.earlier_answers
        )
        for code, (vi, en) in problems.items():
            page_form[code].errors = [t(vi, en)]
        return _render_form(questionnaire, draft, index, page_form, 422)
    following = engine.next_section(questionnaire, index, answers)
    if following is not None:
        save_draft(draft.id, answers, following)
        return redirect(url_for("citizen.form"))
    # The draft is not written before the claim: the claim is this request's first write.
    return flow.submit(draft, questionnaire, answers, index)


@bp.route("/thanks")
@public
def thanks():
    return render_template("citizen/thanks.html")
