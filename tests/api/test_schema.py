"""The published OpenAPI schema: valid, complete, and served without third parties."""

import pytest
from openapi_spec_validator import validate

from consultation.api import api

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/consultations"),
    ("get", "/consultations/{slug}"),
    ("get", "/consultations/{slug}/items"),
    ("get", "/consultations/{slug}/items/{item_id}"),
    ("get", "/consultations/{slug}/results"),
    ("get", "/consultations/{slug}/results/published"),
    ("get", "/consultations/{slug}/results/versions"),
    ("get", "/consultations/{slug}/open-data"),
    ("get", "/consultations/{slug}/live"),
    ("get", "/consultations/{slug}/me"),
    ("put", "/items/{item_id}/vote"),
    ("delete", "/items/{item_id}/vote"),
    ("put", "/items/{item_id}/grade"),
    ("delete", "/items/{item_id}/grade"),
    ("put", "/consultations/{slug}/ballot"),
    ("delete", "/consultations/{slug}/ballot"),
    ("get", "/items/{item_id}/comments"),
    ("post", "/items/{item_id}/comments"),
    ("patch", "/comments/{comment_id}"),
    ("delete", "/comments/{comment_id}"),
    ("post", "/comments/{comment_id}/useful"),
    ("post", "/comments/{comment_id}/reports"),
    ("get", "/consultations/{slug}/moderation-log"),
    ("get", "/me/notices"),
    ("post", "/me/notices/read"),
    ("post", "/moderation-decisions/{decision_id}/appeal"),
}


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_lists_every_operation(schema):
    published = {
        (method, path.removeprefix("/api/v1"))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert published == OPERATIONS


def test_every_write_requires_a_token_or_the_session(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["PersonalToken"] == {"type": "http", "scheme": "bearer"}
    assert schemes["BrowserSession"]["in"] == "cookie"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "get":
                assert {"PersonalToken": []} in operation["security"], (method, path)
                assert {"BrowserSession": []} in operation["security"], (method, path)
                assert "401" in operation["responses"]
                assert "403" in operation["responses"]


def test_public_reads_need_no_authentication(schema):
    assert "security" not in schema["paths"]["/api/v1/consultations"]["get"]


def test_interactive_docs_page_is_off_no_cdn(client):
    # ninja's page would load Swagger UI from a CDN.
    assert client.get("/api/v1/docs").status_code == 404
    assert api.docs_url is None


def test_operation_ids_stay_put_whichever_module_holds_the_operation(schema):
    """Generated clients name their methods after the operationIds: moving an operation
    between modules of consultation/api/ must not rename it (consultation/api/site.py)."""
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("consultation_api_routes_") for i in ids), ids
    assert schema["paths"]["/api/v1/consultations"]["get"]["operationId"] == (
        "consultation_api_routes_list_consultations"
    )
    assert schema["paths"]["/api/v1/items/{item_id}/vote"]["put"]["operationId"] == (
        "consultation_api_routes_cast_vote"
    )
