"""Every route refuses anonymous visitors and wrong roles (deny by default).

The test walks ``app.url_map``, so routes added by any blueprint are covered without
editing this file. A route is public only when its view is marked ``@public`` AND it is
listed below; adding a public page means adding it here, on purpose.
"""

import uuid

import pytest

from surveyapp.models.users import Role
from surveyapp.security import view_access

# Public pages, reviewed one by one.
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "core.healthz",
    "core.set_language",
    # The campaign's draw record: commitments, seeds, hashes, checks; no personal data.
    "draws.public_page",
    "draws.public_check",
    "draws.public_commitment",
    "draws.public_manifest",
}
# The citizen form (/s, /s/<token>) and walk-in pages are public by nature.
PUBLIC_PATH_PREFIXES = ("/s/", "/walkin/", "/w/")
PUBLIC_PATHS = {"/s"}

DUMMY_VALUES = {"int": 1, "float": 1.0, "uuid": str(uuid.UUID(int=1)), "path": "x", "default": "x"}
CHECKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def is_listed_public(rule) -> bool:
    return (
        rule.endpoint in PUBLIC_ENDPOINTS
        or rule.rule in PUBLIC_PATHS
        or rule.rule.startswith(PUBLIC_PATH_PREFIXES)
    )


def build_path(rule) -> str:
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__.replace("Converter", "").lower()
        converter = {"integer": "int", "unicode": "default", "string": "default"}.get(
            converter, converter
        )
        values[name] = DUMMY_VALUES.get(converter, "x")
    return rule.build(values, append_unknown=False)[1]


def protected_routes(app):
    for rule in app.url_map.iter_rules():
        if is_listed_public(rule):
            continue
        for method in sorted(rule.methods & set(CHECKED_METHODS)):
            yield rule, method, build_path(rule)


def test_every_view_declares_its_access(app):
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and view_access(view) is None
    ]
    assert undeclared == [], "views without @public or @roles_required: refused to everyone"


def test_public_views_are_exactly_the_allow_list(app):
    marked_public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if view_access(app.view_functions[rule.endpoint]) == "public"
    }
    listed = {rule.endpoint for rule in app.url_map.iter_rules() if is_listed_public(rule)}
    assert marked_public == listed - {"static"}


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_anonymous_visitors_are_refused(app, client):
    routes = list(protected_routes(app))
    assert routes, "the url map has protected routes"
    for rule, method, path in routes:
        response = client.open(path, method=method)
        if method == "GET":
            assert response.status_code == 302, (rule.endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/auth/login"), rule.endpoint
        else:
            assert response.status_code == 401, (rule.endpoint, method, response.status_code)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_wrong_roles_are_refused(app, client, factory, login):
    users = {role: factory.user(role=role) for role in Role}
    checked = 0
    for rule, method, path in protected_routes(app):
        allowed = view_access(app.view_functions[rule.endpoint])
        for role in set(Role) - set(allowed):
            login(user=users[role])
            response = client.open(path, method=method)
            assert response.status_code == 403, (rule.endpoint, method, role.value)
            checked += 1
    assert checked > 0


def test_allowed_role_is_let_through(client, login):
    login(Role.ADMIN)
    assert client.get("/").status_code == 200
    assert client.get("/units/").status_code == 200
    assert client.get("/campaigns/").status_code == 200


def test_view_without_declaration_is_refused_even_when_signed_in(app, client, login):
    @app.route("/_test/undeclared")
    def undeclared():
        return "should never be seen"

    login(Role.ADMIN)
    response = client.get("/_test/undeclared")
    assert response.status_code == 403
    assert "should never be seen" not in response.get_data(as_text=True)


def test_list_rows_are_seen_only_by_the_administrator_and_the_units_focal_point(
    client, factory, login, db_session
):
    """The whole list (people outside the sample, their phones and e-mails) is never shown
    to the contractor's roles: upload report, its downloads and the versions page."""
    import sqlalchemy as sa

    from surveyapp.models.audit import AuditEvent

    from .test_frames import PERIOD, citizens_csv, post_file

    unit = factory.unit(code="XA01")
    campaign = factory.campaign(**PERIOD)
    focal = login(Role.FOCAL_POINT, unit=unit)
    unsampled = "Người Ngoài Mẫu,098765,ngoai.mau@,HS-X,15/01/2024,x\n"  # a wrong phone
    response = post_file(client, campaign, unit, citizens_csv(3, extra_rows=unsampled))
    upload_id = int(response.headers["Location"].rsplit("/", 1)[1])
    pages = [
        f"/frames/uploads/{upload_id}",
        f"/frames/uploads/{upload_id}/report.csv",
        f"/frames/uploads/{upload_id}/report.xlsx",
        f"/frames/{campaign.id}/units/{unit.id}/citizens/versions",
    ]
    assert "098765" in client.get(pages[0]).get_data(as_text=True)  # the report quotes it
    for role in (Role.SUPERVISOR, Role.ENUMERATOR, Role.CLERK):
        login(role)
        for path in pages:
            assert client.get(path).status_code == 403, (role.value, path)
    login(Role.SUPERVISOR)  # the status table still counts rows, without a link to them
    status = client.get(f"/frames/{campaign.id}/status").get_data(as_text=True)
    assert "XA01" in status and f"/frames/uploads/{upload_id}" not in status
    login(Role.FOCAL_POINT, unit=factory.unit(code="XA02"))
    for path in pages:
        assert client.get(path).status_code == 403, ("another unit", path)
    for user in (focal, factory.user(role=Role.ADMIN)):
        login(user=user)
        for path in pages:
            assert client.get(path).status_code == 200, (user.role.value, path)
    with db_session() as session:
        downloads = session.scalars(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "download.list_report")
        ).all()
    assert sorted(downloads) == ["csv", "csv", "xlsx", "xlsx"]
