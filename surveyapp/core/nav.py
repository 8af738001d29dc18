"""The main menu: one table (MENU), showing only what the role may see.

An entry is shown when its endpoint's access declaration admits the current user; it
stays highlighted on the pages under it (the campaign page under "Campaigns").
"""

from flask import current_app, request, url_for

from surveyapp.i18n import t
from surveyapp.security import current_user, view_access

# The menu, in the order work happens: register units, set up the campaign, collect the
# units' lists, draw the sample, print letters and posters, do fieldwork, follow progress,
# score. Each entry: endpoint, label (vi, en), what the person does there (vi, en).
MENU = (
    (
        "units.index",
        ("Đơn vị", "Units"),
        ("Danh mục cơ quan, đơn vị được đánh giá.", "The registry of units being rated."),
    ),
    (
        "crosswalk.index",
        ("Chuyển đổi đơn vị", "Crosswalks"),
        (
            "Đơn vị cũ → đơn vị mới sau sắp xếp, để so sánh với năm trước.",
            "Old units → current units after the reorganisation, for year-on-year comparison.",
        ),
    ),
    (
        "campaigns.index",
        ("Đợt khảo sát", "Campaigns"),
        (
            "Đợt khảo sát của năm: thời gian, bảng hỏi, bắt đầu và kết thúc.",
            "The year's campaign: period, questionnaires, start and close.",
        ),
    ),
    (
        "frames.index",
        ("Danh sách đơn vị", "Units' lists"),
        (
            "Đơn vị tải lên danh sách người dân và công chức; xem báo cáo lỗi.",
            "Units upload their lists of citizens and officials; see the error reports.",
        ),
    ),
    (
        "draws.index",
        ("Chọn mẫu", "Sample draw"),
        (
            "Chọn mẫu ngẫu nhiên có dự phòng, kiểm tra và khoá mẫu.",
            "Draw the random sample with reserves, verify and lock it.",
        ),
    ),
    (
        "tokens.index",
        ("Thư mời", "Invitations"),
        (
            "In thư mời kèm mã trả lời cho người được chọn.",
            "Print invitation letters with access codes for the sampled people.",
        ),
    ),
    (
        "walkin.posters",
        ("Áp phích tại quầy", "Counter posters"),
        (
            "Áp phích mã QR cho Bộ phận một cửa (phiếu tự nguyện).",
            "QR posters for one-stop counters (voluntary answers).",
        ),
    ),
    (
        "fieldwork.index",
        ("Thực địa", "Fieldwork"),
        (
            "Giao việc cho điều tra viên, thay thế bằng dự phòng, phúc tra.",
            "Assign enumerators, replace from the reserve, back-checks.",
        ),
    ),
    (
        "fieldwork.my_assignments",
        ("Việc của tôi", "My assignments"),
        (
            "Những người bạn cần liên hệ và phỏng vấn.",
            "The people you are to contact and interview.",
        ),
    ),
    (
        "fieldwork.paper_lookup",
        ("Nhập phiếu giấy", "Key in paper forms"),
        (
            "Nhập phiếu giấy bằng mã in trên phiếu.",
            "Key in paper forms by the code printed on them.",
        ),
    ),
    (
        "dashboard.index",
        ("Tiến độ", "Progress"),
        (
            "Số phiếu hoàn thành và tỷ lệ trả lời theo đơn vị.",
            "Completed interviews and response rates per unit.",
        ),
    ),
    (
        "results.index",
        ("Kết quả", "Results"),
        (
            "Tính điểm chỉ số, tải báo cáo và dữ liệu ẩn danh.",
            "Score the index, download reports and anonymised data.",
        ),
    ),
    (
        "auth.users",
        ("Người dùng", "Users"),
        ("Tài khoản và vai trò của người dùng.", "Accounts and their roles."),
    ),
    (
        "audit.index",
        ("Nhật ký", "Audit log"),
        ("Ai đã làm gì và khi nào.", "Who did what, and when."),
    ),
)


def nav_items() -> list[dict]:
    user = current_user()
    if user is None:
        return []
    entries = []
    for endpoint, label, hint in MENU:
        access = view_access(current_app.view_functions.get(endpoint))
        if access == "public" or (access and user.role in access):
            entries.append((endpoint, t(*label), t(*hint)))
    here = request.endpoint or ""
    exact = any(endpoint == here for endpoint, _, _ in entries)
    items = []
    for endpoint, label, hint in entries:
        same_section = not exact and endpoint.split(".")[0] == here.split(".")[0]
        items.append(
            {
                "url": url_for(endpoint),
                "label": label,
                "hint": hint,
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
