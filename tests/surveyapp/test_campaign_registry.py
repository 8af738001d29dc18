"""A campaign surveys one province's unit registry: its pages list and count only those units.

The demo holds Bà Rịa – Vũng Tàu's 2024 registry and Thành phố Hồ Chí Minh's 2025 one; the
HCMC campaign's lists' status counted the 2024 districts too, and its pickers offered
"79-SCT — Sở Công Thương" beside the old "SCT — Sở Công Thương".
"""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from surveyapp.models import Campaign
from surveyapp.models.units import Registry


@pytest.fixture
def two_registries(factory):
    old = factory.add(Registry(code="brvt-2024", name="Bà Rịa - Vũng Tàu 2024",
                               valid_from=dt.date(2024, 1, 1)))  # fmt: skip
    new = factory.add(Registry(code="79-2025", name="Thành phố Hồ Chí Minh 2025",
                               valid_from=dt.date(2025, 7, 1)))  # fmt: skip
    old_units = [factory.unit(code="SCT", name="Sở Công Thương"),
                 factory.unit(code="HCD", name="Huyện Châu Đức"),
                 factory.unit(code="SKHDT", name="Sở Kế hoạch và Đầu tư")]  # fmt: skip
    new_units = [factory.unit(code="79-SCT", name="Sở Công Thương"),
                 factory.unit(code="79-26734", name="Phường Sài Gòn")]  # fmt: skip
    with factory.app.app_context():
        from surveyapp.extensions import db
        from surveyapp.models import Unit

        for registry, units in ((old, old_units), (new, new_units)):
            db.session.execute(
                sa.update(Unit)
                .where(Unit.id.in_([u.id for u in units]))
                .values(registry_id=registry.id)
            )
        db.session.commit()
    return old, new, old_units, new_units


def option_values(html: str, select_name: str) -> set[str]:
    select = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, select_name
    return set(re.findall(r'<option[^>]*value="([^"]*)"', select.group(1)))


def test_status_page_counts_only_the_campaigns_registry(client, login, factory, two_registries):
    _, new, old_units, new_units = two_registries
    campaign = factory.campaign(code="2026", registry_id=new.id, lists_due_on=dt.date(2025, 1, 1))
    login("admin")
    html = client.get(f"/frames/{campaign.id}/status").get_data(as_text=True)
    assert re.search(r"<strong>0</strong> / 2 ", html), html
    assert "Phường Sài Gòn" in html and "79-SCT" in html
    assert "Huyện Châu Đức" not in html and "Sở Kế hoạch và Đầu tư" not in html
    lines = client.get(f"/frames/{campaign.id}/status.csv").get_data(as_text=True)
    assert "Phường Sài Gòn" in lines and "Huyện Châu Đức" not in lines


def test_pickers_offer_only_the_campaigns_registry(client, login, factory, two_registries):
    old, new, old_units, new_units = two_registries
    this_year = factory.campaign(code="2026", registry_id=new.id)
    last_year = factory.campaign(code="2024", registry_id=old.id)
    login("admin")
    new_ids = {str(u.id) for u in new_units}
    old_ids = {str(u.id) for u in old_units}

    # "Upload a list for a unit": each campaign's picker holds its own registry's units.
    html = client.get("/frames/").get_data(as_text=True)
    pickers = dict(
        re.findall(
            r'action="/frames/(\d+)/go".*?<select[^>]*name="unit_id"[^>]*>(.*?)</select>',
            html,
            re.S,
        )  # fmt: skip
    )
    picked = {c: set(re.findall(r'value="(\d+)"', body)) for c, body in pickers.items()}
    assert picked[str(this_year.id)] == new_ids
    assert picked[str(last_year.id)] == old_ids

    # The campaign's rating targets: source and rated units of its registry only.
    html = client.get(f"/campaigns/{this_year.id}").get_data(as_text=True)
    assert "Thành phố Hồ Chí Minh 2025" in html  # the registry it surveys, named
    assert option_values(html, "target-source_unit_id") == new_ids
    assert option_values(html, "target-rated_unit_id") == new_ids
    response = client.post(
        f"/campaigns/{this_year.id}/targets",
        data={
            "target-respondent_group": "official",
            "target-source_unit_id": new_units[1].id,
            "target-rated_unit_id": old_units[0].id,
        },  # fmt: skip
    )
    assert response.status_code == 422

    # Walk-in posters: each open campaign's table holds its registry's units.
    html = client.get("/posters/").get_data(as_text=True)
    posters = set(re.findall(r"/posters/(\d+)/(\d+)\.pdf", html))
    assert posters == {(str(this_year.id), i) for i in new_ids} | {
        (str(last_year.id), i) for i in old_ids
    }


def test_new_campaign_names_its_registry_newest_by_default(
    client, login, factory, db_session, two_registries
):
    old, new, _, _ = two_registries
    login("admin")
    html = client.get("/campaigns/new").get_data(as_text=True)
    assert option_values(html, "registry_id") >= {str(old.id), str(new.id)}
    selected = re.search(r'<option[^>]*selected[^>]*value="(\d+)"|<option[^>]*value="(\d+)"[^>]*selected',
                         html)  # fmt: skip
    assert selected and new.id == int(selected.group(1) or selected.group(2))

    response = client.post(
        "/campaigns/new", data={"code": "2024b", "name": "Năm 2024", "registry_id": old.id}
    )
    assert response.status_code == 302
    with db_session() as session:
        saved = session.scalar(sa.select(Campaign).where(Campaign.code == "2024b"))
        assert saved.registry_id == old.id


def test_existing_campaigns_take_the_registry_their_lists_use(tmp_path):
    """The migration gives each campaign the registry of the units its lists and rating
    targets use; a campaign with neither stays unrestricted."""
    from flask_migrate import upgrade

    from surveyapp.app import create_app
    from surveyapp.extensions import db

    uri = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    statements = [
        "INSERT INTO registries (id, code, name, structure, edition, imported_at) VALUES "
        "(1, 'brvt-2024', 'BR-VT', 'three-tier', '', '2024-01-01'), "
        "(2, '79-2025', 'TP.HCM', 'two-tier', '', '2025-07-01')",
        "INSERT INTO units (id, code, name, level_label, active, registry_id) VALUES "
        "(1, 'SCT', 'Sở Công Thương', '', true, 1), (2, 'HCD', 'Huyện Châu Đức', '', true, 1), "
        "(3, '79-SCT', 'Sở Công Thương', '', true, 2), (4, '79-X', 'Phường', '', true, 2)",
        "INSERT INTO campaigns (id, code, name, status, created_at, comparison_rule) VALUES "
        "(1, '2024', 'a', 'closed', '2024-01-01', 'responses'), "
        "(2, '2026', 'b', 'draft', '2026-01-01', 'responses'), "
        "(3, 'empty', 'c', 'draft', '2026-01-01', 'responses')",
        "INSERT INTO frame_uploads (id, campaign_id, unit_id, list_kind, filename, uploaded_at, "
        "rows_read, rows_valid, rows_excluded, is_current) VALUES "
        "(1, 1, 1, 'citizens', 'a.csv', '2024-03-01', 1, 1, 0, true), "
        "(2, 1, 2, 'citizens', 'b.csv', '2024-03-01', 1, 1, 0, true)",
        "INSERT INTO rating_targets (id, campaign_id, respondent_group, source_unit_id, "
        "rated_unit_id) VALUES (1, 2, 'official', 4, 3)",
    ]
    with app.app_context():
        upgrade(revision="e1f4b7c2a8d3")
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement))
        upgrade()
        with db.engine.connect() as connection:
            found = dict(connection.execute(sa.text("SELECT id, registry_id FROM campaigns")).all())
        db.engine.dispose()
    assert found == {1: 1, 2: 2, 3: None}
