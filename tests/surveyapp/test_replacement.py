"""Replacement from the reserve: same stratum only, in reserve-rank order, never skipping."""

import threading

import pytest
import sqlalchemy as sa

from surveyapp.db import transaction
from surveyapp.extensions import db
from surveyapp.fieldwork import operations as ops
from surveyapp.models import Draw, Respondent, RespondentStatus, Selection
from surveyapp.models.users import Role


def person(draw, campaign, unit, stratum, rank=None, status="pending", **kw):
    return Respondent(
        draw_id=draw.id,
        campaign_id=campaign.id,
        source_unit_id=unit.id,
        respondent_group="citizen",
        stratum=stratum,
        selection=Selection.RESERVE if rank else Selection.PRIMARY,
        reserve_rank=rank,
        inclusion_prob=0.2,
        weight=5.0,
        status=RespondentStatus(status),
        full_name=f"{stratum} {rank or 'primary'}",
        **kw,
    )


@pytest.fixture
def strata(factory):
    """Stratum A: 3 refused primaries, reserves inserted as ranks 3, 1, 2.
    Stratum B (same unit): 1 refused primary, 2 reserves."""
    unit = factory.unit()
    campaign = factory.campaign(status="fieldwork")
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    enumerator = factory.user(role="enumerator")
    rows = factory.add(
        *[
            person(
                draw, campaign, unit, "A", status="refused", assigned_enumerator_id=enumerator.id
            )
            for _ in range(3)
        ],
        person(draw, campaign, unit, "A", rank=3),
        person(draw, campaign, unit, "A", rank=1),
        person(draw, campaign, unit, "A", rank=2),
        person(draw, campaign, unit, "B", status="noncontact"),
        person(draw, campaign, unit, "B", rank=1),
        person(draw, campaign, unit, "B", rank=2),
    )
    return {"unit": unit, "campaign": campaign, "enumerator": enumerator, "rows": rows}


def test_reserves_are_released_in_rank_order_within_the_stratum(app, strata, db_session):
    primaries = strata["rows"][:3]
    released_ranks = []
    with db_session() as s:
        for primary in primaries:
            reserve = ops.replace_with_reserve(s.get(Respondent, primary.id))
            released_ranks.append(reserve.reserve_rank)
            assert reserve.stratum == "A"
            assert reserve.released is True and reserve.status == RespondentStatus.PENDING
            # The reserve goes to the enumerator who had the case.
            assert reserve.assigned_enumerator_id == strata["enumerator"].id
            replaced = s.get(Respondent, primary.id)
            assert replaced.status == RespondentStatus.REPLACED
            assert replaced.replaced_status == RespondentStatus.REFUSED
            assert replaced.replaced_by_id == reserve.id
    assert released_ranks == [1, 2, 3]


def test_no_reserve_left_in_the_stratum_is_a_clear_error(app, strata, db_session):
    with db_session() as s:
        for primary in strata["rows"][:3]:
            ops.replace_with_reserve(s.get(Respondent, primary.id))
        # The first released reserve refuses too: stratum A has no reserve left, and
        # stratum B's reserves are never used for it.
        first_reserve = s.scalar(
            sa.select(Respondent).where(Respondent.stratum == "A", Respondent.reserve_rank == 1)
        )
        first_reserve.status = RespondentStatus.REFUSED
        s.flush()
        with pytest.raises(ops.NoReserveLeft) as caught, s.begin_nested():
            ops.replace_with_reserve(first_reserve)
        assert "«A»" in caught.value.message_en and "«A»" in caught.value.message_vi
        b_reserves = s.scalars(
            sa.select(Respondent.released).where(
                Respondent.stratum == "B", Respondent.selection == Selection.RESERVE
            )
        ).all()
        assert b_reserves == [False, False]
        # The failed replacement left the case as it was.
        assert s.get(Respondent, first_reserve.id).status == RespondentStatus.REFUSED


def test_only_final_non_interviews_are_replaced_and_only_once(app, strata, factory, db_session):
    with db_session() as s:
        pending_reserve = s.scalar(
            sa.select(Respondent).where(Respondent.stratum == "B", Respondent.reserve_rank == 1)
        )
        with pytest.raises(ops.FieldworkError):
            ops.replace_with_reserve(pending_reserve)  # not released, pending
        b_primary = s.get(Respondent, strata["rows"][6].id)
        ops.replace_with_reserve(b_primary)
        with pytest.raises(ops.FieldworkError):
            ops.replace_with_reserve(b_primary)
        released = s.scalars(
            sa.select(Respondent.reserve_rank).where(
                Respondent.stratum == "B", Respondent.released.is_(True)
            )
        ).all()
        assert released == [1]


def test_supervisor_replaces_from_the_unit_page(client, login, strata, db_session):
    login(Role.SUPERVISOR)
    campaign, unit = strata["campaign"], strata["unit"]
    b_primary = strata["rows"][6]
    page = client.get(f"/fieldwork/campaigns/{campaign.id}/units/{unit.id}")
    assert f'form="replace-{b_primary.id}"' in page.get_data(as_text=True)
    url = f"/fieldwork/respondents/{b_primary.id}/replace"
    asked = client.post(url)
    assert asked.status_code == 200 and "Dự phòng #1" in asked.get_data(as_text=True)
    with db_session() as s:  # nothing happens before the supervisor confirms
        assert s.get(Respondent, b_primary.id).status == RespondentStatus.NONCONTACT
    response = client.post(url, data={"confirm_replace": "y"}, follow_redirects=True)
    assert "Đã kích hoạt người dự phòng thứ 1" in response.get_data(as_text=True)
    # Replace the released reserve's replacement chain until none is left.
    with db_session() as s:
        reserve = s.scalar(
            sa.select(Respondent).where(Respondent.stratum == "B", Respondent.reserve_rank == 1)
        )
        reserve.status = RespondentStatus.INELIGIBLE
        reserve_id = reserve.id
    client.post(f"/fieldwork/respondents/{reserve_id}/replace", data={"confirm_replace": "y"})
    with db_session() as s:
        second = s.scalar(
            sa.select(Respondent).where(Respondent.stratum == "B", Respondent.reserve_rank == 2)
        )
        second.status = RespondentStatus.NONCONTACT
        second_id = second.id
    response = client.post(
        f"/fieldwork/respondents/{second_id}/replace",
        data={"confirm_replace": "y"},
        follow_redirects=True,
    )
    assert "đã hết người dự phòng" in response.get_data(as_text=True)
    with db_session() as s:
        assert s.get(Respondent, second_id).status == RespondentStatus.NONCONTACT


def test_enumerators_cannot_replace(client, login, strata):
    login(Role.ENUMERATOR)
    assert client.post(f"/fieldwork/respondents/{strata['rows'][6].id}/replace").status_code == 403


@pytest.mark.app_config(FIELDWORK_AUTO_REPLACE=True)
def test_automatic_replacement_on_refusal(client, login, strata, db_session):
    with db_session() as s:
        primary = s.get(Respondent, strata["rows"][6].id)
        primary.status = RespondentStatus.PENDING
        enumerator_id = primary.assigned_enumerator_id = strata["enumerator"].id
    login(user=strata["enumerator"])
    response = client.post(
        f"/fieldwork/respondents/{strata['rows'][6].id}/attempts",
        data={"attempt-mode": "visit", "attempt-disposition": "refusal"},
    )
    assert response.status_code == 302
    with db_session() as s:
        primary = s.get(Respondent, strata["rows"][6].id)
        assert primary.status == RespondentStatus.REPLACED
        assert primary.replaced_status == RespondentStatus.REFUSED
        reserve = s.get(Respondent, primary.replaced_by_id)
        assert (reserve.stratum, reserve.reserve_rank) == ("B", 1)
        assert reserve.assigned_enumerator_id == enumerator_id
    mine = client.get("/fieldwork/mine").get_data(as_text=True)
    assert "B 1" in mine


@pytest.mark.app_config(FIELDWORK_AUTO_REPLACE=True)
def test_automatic_replacement_without_reserves_keeps_the_case(client, login, factory, db_session):
    unit = factory.unit()
    campaign = factory.campaign(status="fieldwork")
    draw = factory.add(Draw(campaign_id=campaign.id, design={}))
    lone = factory.add(person(draw, campaign, unit, "C"))
    login(Role.SUPERVISOR)
    response = client.post(
        f"/fieldwork/respondents/{lone.id}/attempts",
        data={"attempt-mode": "phone", "attempt-disposition": "ineligible"},
    )
    assert response.status_code == 302
    with db_session() as s:
        assert s.get(Respondent, lone.id).status == RespondentStatus.INELIGIBLE


def test_concurrent_replacements_release_distinct_reserves_in_order(app, strata, db_session):
    """Two supervisors replace two cases of stratum A at the same moment: each gets its
    own reserve, ranks 1 and 2, and rank 3 stays unreleased."""
    primaries = [p.id for p in strata["rows"][:2]]
    barrier = threading.Barrier(len(primaries))
    errors = []

    def replace(primary_id):
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                with transaction():
                    ops.replace_with_reserve(db.session.get(Respondent, primary_id))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=replace, args=(pid,)) for pid in primaries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with db_session() as s:
        released = s.scalars(
            sa.select(Respondent.reserve_rank).where(
                Respondent.stratum == "A", Respondent.released.is_(True)
            )
        ).all()
        assert sorted(released) == [1, 2]
        links = s.scalars(
            sa.select(Respondent.replaced_by_id).where(Respondent.id.in_(primaries))
        ).all()
        assert len(set(links)) == 2 and None not in links
