"""Navigation built from the blueprints' declarations, showing only what the role may see.

A blueprint lists its menu entries as ``bp.nav = [("units.index", "Đơn vị", "Units"), ...]``;
an entry is shown when the endpoint's access declaration admits the current user.
"""

from flask import current_app, request, url_for

from surveyapp.i18n import t
from surveyapp.security import current_user, view_access


def nav_items() -> list[dict]:
    user = current_user()
    if user is None:
        return []
    items = []
    for blueprint in current_app.blueprints.values():
        for endpoint, label_vi, label_en in getattr(blueprint, "nav", ()):
            access = view_access(current_app.view_functions.get(endpoint))
            if access == "public" or (access and user.role in access):
                items.append(
                    {
                        "url": url_for(endpoint),
                        "label": t(label_vi, label_en),
                        "active": request.endpoint == endpoint,
                    }
                )
    return items
