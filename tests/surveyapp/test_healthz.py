from surveyapp.app import create_app


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    # A SQLite path inside a missing directory cannot be opened.
    uri = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"


def test_healthz_is_503_when_postgres_is_unreachable():
    uri = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": uri})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
