"""Shown values in the visitor's language: enum labels, dates and local times."""

import enum
from datetime import date, datetime

import pytest

from surveyapp.i18n import (
    enum_labels,
    format_date,
    format_datetime,
    format_number,
    format_percent,
    label,
    zone_name,
)
from surveyapp.models.campaigns import CampaignStatus
from surveyapp.models.frames import ListKind
from surveyapp.models.jobs import JobStatus
from surveyapp.models.respondents import ContactMode, RespondentStatus, Selection
from surveyapp.models.users import Role

SHOWN_ENUMS = [Role, CampaignStatus, RespondentStatus, Selection, ContactMode, ListKind, JobStatus]


def _in(app, lang):
    context = app.test_request_context()
    context.push()
    from flask import session

    session["lang"] = lang
    return context


@pytest.mark.parametrize("enum_class", SHOWN_ENUMS)
def test_every_shown_enum_member_has_two_distinct_labels(app, enum_class):
    for lang in ("vi", "en"):
        context = _in(app, lang)
        try:
            shown = [label(member) for member in enum_class]
        finally:
            context.pop()
        assert all(shown) and len(set(shown)) == len(shown)


def test_label_follows_the_chosen_language(app):
    context = _in(app, "en")
    try:
        assert label(JobStatus.DONE) == "Done"
        assert label(CampaignStatus.FIELDWORK) == "Fieldwork"
        assert label(None) == "—"
    finally:
        context.pop()
    context = _in(app, "vi")
    try:
        assert label(JobStatus.DONE) == "Xong"
        assert label(CampaignStatus.FIELDWORK) == "Đang khảo sát"
    finally:
        context.pop()


def test_an_enum_without_labels_is_refused():
    class Colour(enum.StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(ValueError, match="blue"):
        enum_labels(Colour, {Colour.RED: ("Đỏ", "Red")})
    with pytest.raises(KeyError):
        label(Colour.RED)


def test_dates_are_day_month_year(app):
    with app.app_context():
        assert format_date(date(2024, 1, 1)) == "01/01/2024"
        assert format_date("2024-09-30") == "30/09/2024"
        assert format_date(None) == "—"
        # A stored UTC time late in the evening is already the next day in Vietnam.
        assert format_date(datetime(2024, 3, 31, 18, 30)) == "01/04/2024"


def test_times_are_local_with_the_zone_stated(app):
    with app.app_context():
        assert zone_name() == "UTC+7"
        assert format_datetime(datetime(2024, 3, 31, 18, 30)) == "01/04/2024 01:30 (UTC+7)"
        assert format_datetime(datetime(2024, 3, 31, 18, 30), zone=False) == "01/04/2024 01:30"
        assert format_datetime("2024-03-31T18:30:00Z") == "01/04/2024 01:30 (UTC+7)"
        assert format_datetime(None) == "—"


@pytest.mark.app_config(FIELDWORK_TIMEZONE="Asia/Kolkata")
def test_the_zone_comes_from_the_configuration(app):
    with app.app_context():
        assert format_datetime(datetime(2024, 1, 1, 0, 0)) == "01/01/2024 05:30 (UTC+5:30)"


def test_campaign_pages_show_labels_and_dates(client, login, factory):
    campaign = factory.campaign(period_start=date(2024, 1, 1), period_end=date(2024, 9, 30))
    login(Role.ADMIN)
    client.get("/lang/en")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "01/01/2024" in page and "30/09/2024" in page and "2024-01-01" not in page
    listing = client.get("/campaigns/").get_data(as_text=True)
    assert "Draft" in listing and ">draft<" not in listing


def test_usual_respondent_groups_are_named_and_others_keep_their_code(app):
    from surveyapp.models.campaigns import group_label

    context = _in(app, "vi")
    try:
        assert group_label("citizen") == "Người dân"
        assert group_label("official") == "Cán bộ, công chức, viên chức"
        assert group_label("doanh-nghiep-fdi") == "doanh-nghiep-fdi"
        assert group_label(None) == "—"
    finally:
        context.pop()


def test_numbers_follow_the_visitor_language(app):
    """Vietnamese: a decimal comma and a thousands dot (as in the PDFs); English the reverse."""
    shown = {}
    for lang in ("vi", "en"):
        context = _in(app, lang)
        try:
            shown[lang] = (
                format_number(3243),
                format_number(87.06, 1),
                format_percent(0.1023, 1),
                format_number(2.5, 1, signed=True),
                format_percent(None, 1),
                format_number(float("nan"), 1),
            )
        finally:
            context.pop()
    assert shown["vi"] == ("3.243", "87,1", "10,2%", "+2,5", "—", "—")
    assert shown["en"] == ("3,243", "87.1", "10.2%", "+2.5", "—", "—")
