"""Navigation built from the blueprints' declarations, showing only what the role may see.

A blueprint lists its menu entries as ``bp.nav = [("units.index", "Đơn vị", "Units"), ...]``;
an entry is shown when the endpoint's access declaration admits the current user.
Entries follow the year's workflow (WORKFLOW_ORDER); an entry stays highlighted on the
pages under it (the campaign page under "Campaigns").
"""

from flask import current_app, request, url_for

from surveyapp.i18n import t
from surveyapp.security import current_user, view_access

# The order work happens in: register units, set up the campaign, collect the units' lists,
# draw the sample, print letters and posters, do fieldwork, follow progress, score.
WORKFLOW_ORDER = (
    "units.index",
    "campaigns.index",
    "frames.index",
    "draws.index",
    "tokens.index",
    "walkin.posters",
    "fieldwork.index",
    "fieldwork.my_assignments",
    "fieldwork.paper_lookup",
    "dashboard.index",
    "results.index",
    "auth.users",
)


# One line per entry on the home page: what the person does there.
HINTS = {
    "units.index": (
        "Danh mục cơ quan, đơn vị được đánh giá.",
        "The registry of units being rated.",
    ),
    "campaigns.index": (
        "Đợt khảo sát của năm: thời gian, bảng hỏi, bắt đầu và kết thúc.",
        "The year's campaign: period, questionnaires, start and close.",
    ),
    "frames.index": (
        "Đơn vị tải lên danh sách người dân và công chức; xem báo cáo lỗi.",
        "Units upload their lists of citizens and officials; see the error reports.",
    ),
    "draws.index": (
        "Chọn mẫu ngẫu nhiên có dự phòng, kiểm tra và khoá mẫu.",
        "Draw the random sample with reserves, verify and lock it.",
    ),
    "tokens.index": (
        "In thư mời kèm mã trả lời cho người được chọn.",
        "Print invitation letters with access codes for the sampled people.",
    ),
    "walkin.posters": (
        "Áp phích mã QR cho Bộ phận một cửa (phiếu tự nguyện).",
        "QR posters for one-stop counters (voluntary answers).",
    ),
    "fieldwork.index": (
        "Giao việc cho điều tra viên, thay thế bằng dự phòng, phúc tra.",
        "Assign enumerators, replace from the reserve, back-checks.",
    ),
    "fieldwork.my_assignments": (
        "Những người bạn cần liên hệ và phỏng vấn.",
        "The people you are to contact and interview.",
    ),
    "fieldwork.paper_lookup": (
        "Nhập phiếu giấy bằng mã in trên phiếu.",
        "Key in paper forms by the code printed on them.",
    ),
    "dashboard.index": (
        "Số phiếu hoàn thành và tỷ lệ trả lời theo đơn vị.",
        "Completed interviews and response rates per unit.",
    ),
    "results.index": (
        "Tính điểm chỉ số, tải báo cáo và dữ liệu ẩn danh.",
        "Score the index, download reports and anonymised data.",
    ),
    "auth.users": ("Tài khoản và vai trò của người dùng.", "Accounts and their roles."),
}


def _position(endpoint: str) -> int:
    return WORKFLOW_ORDER.index(endpoint) if endpoint in WORKFLOW_ORDER else len(WORKFLOW_ORDER)


def nav_items() -> list[dict]:
    user = current_user()
    if user is None:
        return []
    entries = []
    for blueprint in current_app.blueprints.values():
        for endpoint, label_vi, label_en in getattr(blueprint, "nav", ()):
            access = view_access(current_app.view_functions.get(endpoint))
            if access == "public" or (access and user.role in access):
                entries.append((endpoint, t(label_vi, label_en)))
    entries.sort(key=lambda entry: _position(entry[0]))
    here = request.endpoint or ""
    exact = any(endpoint == here for endpoint, _ in entries)
    items = []
    for endpoint, label in entries:
        same_section = not exact and endpoint.split(".")[0] == here.split(".")[0]
        items.append(
            {
                "url": url_for(endpoint),
                "label": label,
                "hint": t(*HINTS[endpoint]) if endpoint in HINTS else "",
                # aria-current: "page" on the entry's own page, "true" on pages under it
                "active": "page" if endpoint == here else ("true" if same_section else None),
            }
        )
    # Several entries of one blueprint: highlight only the first on its other pages.
    seen_active = False
    for item in items:
        if item["active"] and seen_active:
            item["active"] = None
        seen_active = seen_active or item["active"]
    return items
