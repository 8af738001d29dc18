"""A CR/LF (or any control character) in ``next=`` is a bad request, not a server error."""

import pytest

from .conftest import PASSWORD

INJECTED = ["/x\r\nSet-Cookie: a=b", "/x\nLocation: https://evil.example/", "/a\x00b", "/\tx"]


@pytest.mark.parametrize("target", INJECTED)
def test_control_characters_in_next_give_400(client, factory, target):
    factory.user(username="nextuser")
    for response in (
        client.get("/lang/en", query_string={"next": target}),
        client.get("/auth/login", query_string={"next": target}),
        client.post(
            "/auth/login",
            data={"username": "nextuser", "password": PASSWORD, "next": target},
            environ_base={"REMOTE_ADDR": "10.7.7.7"},
        ),
    ):
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "Yêu cầu không hợp lệ" in page and "Traceback" not in page
        assert "Set-Cookie: a=b" not in str(response.headers)


def test_a_plain_next_path_still_redirects(client, factory):
    factory.user(username="plain")
    response = client.post(
        "/auth/login", data={"username": "plain", "password": PASSWORD, "next": "/campaigns/"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/campaigns/"
    assert client.get("/lang/en", query_string={"next": "/s"}).headers["Location"] == "/s"
