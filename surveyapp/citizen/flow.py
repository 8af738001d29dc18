"""The form flow shared by the citizen and walk-in forms: the friendly notices, the last
page's submission (a sampled respondent's response or a walk-in's) and the walk-in
duplicate guard.

Walk-ins have no token, so abuse is limited by a per-IP rate limit on opening and sending
the form and by a light duplicate guard: a signed cookie remembers that this browser sent
an answer for this unit today. Walk-in responses are a non-probability sample.
"""

from flask import current_app, flash, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from questionnaires import AnswerError
from surveyapp.citizen import engine
from surveyapp.citizen.drafts import forget_draft, open_for_respondent, save_draft
from surveyapp.extensions import db
from surveyapp.i18n import t
from surveyapp.models.drafts import FormDraft
from surveyapp.models.respondents import Respondent, RespondentStatus
from surveyapp.models.units import Unit
from surveyapp.models.walkin import WalkinLink
from surveyapp.responses.operations import (
    AlreadyRecorded,
    NotAccepting,
    pending_units,
    record_response,
    today,
)
from surveyapp.security import derive_key
from surveyapp.throttles import Throttle, client_address

# Friendly pages: (status, title vi, title en, text vi, text en).
NOTICES = {
    "invalid": (
        404,
        "Đường dẫn hoặc mã không hợp lệ",
        "This link or code is not valid",
        "Xin kiểm tra lại đường dẫn hoặc mã trong thư mời. Nếu Ông/Bà đã nhận được thư mời "
        "mới hơn, xin dùng thư mới nhất (thư cũ không còn dùng được).",
        "Please check the link or the code in your invitation letter. If you received a newer "
        "letter, please use the newest one (earlier letters no longer work).",
    ),
    "answered": (
        409,
        "Phiếu đã được trả lời",
        "Already answered",
        "Phiếu khảo sát của thư mời này đã được gửi. Mỗi thư mời chỉ dùng được một lần. "
        "Xin cảm ơn Ông/Bà!",
        "The questionnaire of this invitation has already been sent. Each invitation can be "
        "used once. Thank you!",
    ),
    "not_open": (
        409,
        "Khảo sát chưa bắt đầu",
        "The survey has not started yet",
        "Đợt khảo sát chưa mở. Xin Ông/Bà quay lại sau, trong thời gian ghi trong thư mời.",
        "The survey is not open yet. Please come back later, within the dates in your letter.",
    ),
    "closed": (
        410,
        "Khảo sát đã kết thúc",
        "The survey has ended",
        "Đợt khảo sát đã kết thúc và không nhận thêm phiếu. Xin cảm ơn Ông/Bà đã quan tâm.",
        "The survey has ended and takes no more answers. Thank you for your interest.",
    ),
    "expired": (
        410,
        "Đường dẫn đã hết hạn",
        "The link has expired",
        "Thời hạn trả lời của thư mời này đã hết. Xin cảm ơn Ông/Bà đã quan tâm.",
        "The time to answer this invitation is over. Thank you for your interest.",
    ),
    "replaced": (
        410,
        "Thư mời này đã được thay thế",
        "This invitation was replaced",
        "Theo quy trình chọn mẫu của cuộc khảo sát, phiếu của thư mời này đã được chuyển cho "
        "một người khác, nên đường dẫn và mã này không còn dùng được. Ông/Bà không cần làm gì "
        "thêm. Xin cảm ơn Ông/Bà đã quan tâm.",
        "Following the survey's sampling rules, the questionnaire of this invitation has been "
        "passed to another person, so this link and code no longer work. You need not do "
        "anything. Thank you for your interest.",
    ),
    "session": (
        410,
        "Phiên trả lời đã kết thúc",
        "Your session has ended",
        "Xin mở lại đường dẫn trong thư mời (hoặc nhập lại mã) để tiếp tục; các câu đã trả "
        "lời vẫn được giữ.",
        "Please open the link in your letter again (or type the code again) to go on; the "
        "answers you gave are kept.",
    ),
    "throttled": (
        429,
        "Quá nhiều lần thử",
        "Too many attempts",
        "Có quá nhiều lần nhập mã không đúng từ mạng của Ông/Bà. Xin đợi khoảng 15 phút rồi "
        "thử lại.",
        "There were too many wrong codes from your network. Please wait about 15 minutes and "
        "try again.",
    ),
}


def notice(kind: str):
    status, title_vi, title_en, text_vi, text_en = NOTICES[kind]
    page = render_template(
        "citizen/notice.html",
        kind=kind,
        title=t(title_vi, title_en),
        text=t(text_vi, text_en),
    )
    return page, status


COOKIE_PREFIX = "walkin_"


def walkin_throttle(scope: str) -> Throttle:
    config = current_app.config
    return Throttle(f"walkin-{scope}", config["WALKIN_LIMIT"], config["WALKIN_WINDOW"])


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(derive_key("walkin-cookie"), salt="walkin")


def answered_today(slug: str) -> bool:
    value = request.cookies.get(COOKIE_PREFIX + slug)
    if not value:
        return False
    try:
        return _serializer().loads(value) == today().isoformat()
    except BadSignature:
        return False


def submit(draft, questionnaire, answers, index):
    """The last page of a form: record the response (a sampled respondent's, or a walk-in's)
    and say what happens next."""
    if draft.walkin_link_id is not None:
        return _submit_walkin(db.session.get(FormDraft, draft.id), questionnaire, answers)
    try:
        recorded = record_response(
            respondent=draft.respondent_id,
            token_hash=draft.token_hash,
            unit=draft.rated_unit_id,
            answers=answers,
            mode="web",
            questionnaire=questionnaire,
            draft_id=draft.id,
        )
    except AnswerError as error:
        return go_to_problem(draft, questionnaire, answers, error, index)
    except AlreadyRecorded:
        forget_draft()
        respondent = db.session.get(Respondent, draft.respondent_id)
        if respondent.status == RespondentStatus.REPLACED:
            return notice("replaced")  # a reserve was released in their place meanwhile
        # A letter re-printed while this form was open replaced the token.
        return notice("answered" if respondent.token_hash == draft.token_hash else "invalid")
    except NotAccepting as error:
        forget_draft()
        return notice(error.reason)
    if recorded.completed:
        # The session's draft key is left as it is: its draft row is gone, so it opens
        # nothing (the form says the session ended, as without a key), and leaving it
        # spares re-signing the cookie on every submit.
        return redirect(url_for("citizen.thanks"))
    respondent = db.session.get(Respondent, draft.respondent_id)
    remaining = pending_units(respondent)
    open_for_respondent(respondent, remaining[0])
    unit = db.session.get(Unit, remaining[0])
    flash(
        t(
            f"Cảm ơn Ông/Bà! Phiếu đã được ghi nhận. Tiếp theo, xin đánh giá: {unit.name}.",
            f"Thank you! Your answers were recorded. Next, please rate: {unit.name}.",
        ),
        "ok",
    )
    return redirect(url_for("citizen.form"))


def go_to_problem(draft, questionnaire, answers, error: AnswerError, index: int):
    """Answers incomplete in an earlier page (e.g. a question became relevant): go there."""
    problem_pages = [
        i
        for i in range(len(questionnaire.sections))
        if engine.section_codes(questionnaire, i) & set(error.problems)
    ]
    save_draft(draft.id, answers, problem_pages[0] if problem_pages else index)
    flash(
        t(
            "Còn câu hỏi cần trả lời trước khi gửi phiếu.",
            "Some questions still need an answer before sending.",
        ),
        "error",
    )
    return redirect(url_for("citizen.form"))


def _submit_walkin(draft, questionnaire, answers):
    link = db.session.get(WalkinLink, draft.walkin_link_id)
    if answered_today(link.slug):
        forget_draft()
        return render_template("walkin/already.html"), 409
    if not walkin_throttle("submit").hit(client_address()):
        return notice("throttled")
    try:
        record_response(
            unit=draft.rated_unit_id,
            answers=answers,
            mode="walkin",
            questionnaire=questionnaire,
            campaign=draft.campaign_id,
            respondent_group=draft.respondent_group,
            draft_id=draft.id,
        )
    except AnswerError as error:
        return go_to_problem(draft, questionnaire, answers, error, draft.step)
    except NotAccepting as error:
        forget_draft()
        return notice(error.reason)
    forget_draft()
    response = redirect(url_for("citizen.thanks"))
    response.set_cookie(
        COOKIE_PREFIX + link.slug,
        _serializer().dumps(today().isoformat()),
        max_age=2 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("PRODUCTION", False),
    )
    return response
