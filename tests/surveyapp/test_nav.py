"""Main navigation: workflow order and the highlighted section."""

import re

import pytest

from surveyapp.models.users import Role


def _nav(page: str) -> list[tuple[str, str | None]]:
    menu = page.split('class="wrap main-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"(?: aria-current="(\w+)")?>', menu)


def test_admin_menu_follows_the_workflow(client, login):
    login(Role.ADMIN)
    hrefs = [href for href, _ in _nav(client.get("/").get_data(as_text=True))]
    expected = ["/units/", "/campaigns/", "/frames/", "/draws/", "/tokens/", "/posters/",
                "/fieldwork/", "/dashboard/", "/results/", "/auth/users"]  # fmt: skip
    assert [h for h in hrefs if h in expected] == expected


def test_the_section_stays_highlighted_on_pages_under_it(client, login, factory):
    campaign = factory.campaign()
    login(Role.ADMIN)
    listing = dict(_nav(client.get("/campaigns/").get_data(as_text=True)))
    assert listing["/campaigns/"] == "page"
    detail = dict(_nav(client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)))
    assert detail["/campaigns/"] == "true"
    assert [h for h, current in detail.items() if current] == ["/campaigns/"]


def test_page_titles_name_the_page_then_the_service(client, login):
    login(Role.ADMIN)
    assert "<title>Đợt khảo sát · Khảo sát Chỉ số CCHC</title>" in client.get(
        "/campaigns/"
    ).get_data(as_text=True)
    assert "<title>Khảo sát Chỉ số CCHC</title>" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/campaigns/", "/frames/", "/draws/", "/fieldwork/", "/dashboard/", "/results/"]
)
def test_without_a_campaign_pages_say_what_to_do_next(client, login, path):
    login(Role.ADMIN)
    client.get("/lang/en")
    page = client.get(path).get_data(as_text=True)
    assert "There is no campaign yet." in page and 'href="/campaigns/new"' in page


def test_others_are_told_who_creates_the_campaign(client, login):
    login(Role.SUPERVISOR)
    client.get("/lang/en")
    page = client.get("/draws/").get_data(as_text=True)
    assert "The Department of Home Affairs creates the campaign" in page
    assert 'href="/campaigns/new"' not in page


def test_sub_pages_have_a_breadcrumb_to_their_section(client, login, factory):
    campaign = factory.campaign()
    login(Role.ADMIN)
    for path, parent in [
        (f"/campaigns/{campaign.id}", "/campaigns/"),
        (f"/campaigns/{campaign.id}/edit", f"/campaigns/{campaign.id}"),
        (f"/draws/{campaign.id}", "/draws/"),
        (f"/results/{campaign.id}", "/results/"),
        ("/units/import", "/units/"),
        ("/auth/users/new", "/auth/users"),
    ]:
        page = client.get(path).get_data(as_text=True)
        crumb = page.split('class="breadcrumb"', 1)[1].split("</p>", 1)[0]
        assert f'href="{parent}"' in crumb, path


def test_home_page_says_what_each_section_is_for(client, login):
    login(Role.ENUMERATOR)
    client.get("/lang/en")
    home = client.get("/").get_data(as_text=True)
    assert "The people you are to contact and interview." in home
    assert "Draw the random sample" not in home
